"""Reading and writing users."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from authgate.security.hashing import StoredHash
from authgate.storage.models import User, utcnow


class DuplicateUser(Exception):
    """A unique key of an account was taken, by a concurrent writer: `field` says which
    (email, username, id, or identity: a provider identity linked with it)."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


def taken_key(error: IntegrityError) -> str:
    """Which unique key a violation names, read from the constraint or column in the
    database's message (`uq_users_username_key`, `users.username_key`)."""
    text = str(error.orig).lower()
    if "linked_identities" in text:
        return "identity"
    if "username" in text:
        return "username"
    if "email" in text:
        return "email"
    return "id"


async def get(session: AsyncSession, *, user_id: str) -> User | None:
    """The account as the database has it now, even if this session loaded it before a bulk
    UPDATE (a claim, a verification) changed it."""
    return await session.get(User, user_id, populate_existing=True)


async def lock(session: AsyncSession, *, user_id: str) -> User | None:
    """The account, locked until the transaction ends (PostgreSQL; a SQLite transaction holds
    the one write lock already): for checks that must hold when the change commits."""
    result = await session.execute(
        select(User).where(User.id == user_id).with_for_update().execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none()


async def emails_of(session: AsyncSession, *, user_ids: list[str]) -> dict[str, str]:
    """The email of each of these accounts that exists, by id."""
    if not user_ids:
        return {}
    result = await session.execute(select(User.id, User.email).where(User.id.in_(user_ids)))
    return {user_id: email for user_id, email in result.all()}


async def get_by_email(session: AsyncSession, *, email_key: str) -> User | None:
    return (await session.execute(select(User).where(User.email_key == email_key))).scalar_one_or_none()


async def get_by_username(session: AsyncSession, *, username_key: str) -> User | None:
    result = await session.execute(select(User).where(User.username_key == username_key))
    return result.scalar_one_or_none()


async def exists(session: AsyncSession, *, email_key: str | None = None, username_key: str | None = None) -> str | None:
    """Which of the given keys is already taken ("email", "username"), if any."""
    if email_key and await get_by_email(session, email_key=email_key):
        return "email"
    if username_key and await get_by_username(session, username_key=username_key):
        return "username"
    return None


async def _flush(session: AsyncSession) -> None:
    """Flush; a unique-index race on email or username becomes DuplicateUser, never a 500."""
    try:
        await session.flush()
    except IntegrityError as exc:
        await session.rollback()
        raise DuplicateUser(taken_key(exc)) from None


async def add(session: AsyncSession, *, user: User) -> User:
    session.add(user)
    await _flush(session)
    return user


async def update_fields(session: AsyncSession, *, user: User, fields: dict[str, Any]) -> User:
    for key, value in fields.items():
        setattr(user, key, value)
    user.updated_at = utcnow()
    await _flush(session)
    return user


async def set_password(session: AsyncSession, *, user_id: str, stored: StoredHash) -> None:
    await session.execute(
        update(User)
        .where(User.id == user_id)
        .values(password_hash=stored.value, password_scheme=stored.scheme, updated_at=utcnow())
    )


async def replace_hash(session: AsyncSession, *, user_id: str, old: StoredHash, new: StoredHash) -> bool:
    """Put `new` in place of `old`, only while the account still has `old`: a password changed
    meanwhile wins. The account's `updated_at` stays: nothing it shows changed."""
    result = await session.execute(
        update(User)
        .where(User.id == user_id, User.password_hash == old.value, User.password_scheme == old.scheme)
        .values(password_hash=new.value, password_scheme=new.scheme)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def mark_email_verified(session: AsyncSession, *, user_id: str, email_key: str, now: datetime) -> bool:
    """Only while the account still has the address the link or code was sent to."""
    result = await session.execute(
        update(User)
        .where(User.id == user_id, User.email_key == email_key)
        .values(email_verified=True, updated_at=now)
        .returning(User.id)
        .execution_options(synchronize_session=False)
    )
    return result.first() is not None


async def mark_phone_verified(session: AsyncSession, *, user_id: str, phone: str, now: datetime) -> bool:
    result = await session.execute(
        update(User)
        .where(User.id == user_id, User.phone == phone)
        .values(phone_verified=True, updated_at=now)
        .returning(User.id)
        .execution_options(synchronize_session=False)
    )
    return result.first() is not None


async def set_mfa_enabled(session: AsyncSession, *, user_id: str, enabled: bool, now: datetime) -> None:
    await session.execute(
        update(User)
        .where(User.id == user_id)
        .values(mfa_enabled=enabled, updated_at=now)
        .execution_options(synchronize_session=False)
    )


async def find_by_phone(session: AsyncSession, *, phone: str, verified: bool) -> User | None:
    """The newest account with this phone in the given verification state (phones are not
    unique; a verified one proves possession, so logins only ever match verified phones)."""
    result = await session.execute(
        select(User)
        .where(User.phone == phone, User.phone_verified.is_(verified))
        .order_by(User.created_at.desc())
        .limit(1)
    )
    return result.scalar_one_or_none()


async def claim(session: AsyncSession, *, user_id: str, email_key: str, now: datetime) -> bool:
    """The owner of the address proved it for the first time: the address is verified and any
    password set before (by whoever registered it) is discarded. Only while the account still
    has this address and it was never verified; True if this call claimed it."""
    result = await session.execute(
        update(User)
        .where(User.id == user_id, User.email_key == email_key, User.email_verified.is_(False))
        .values(
            email_verified=True,
            password_hash=None,
            password_scheme=None,
            mfa_enabled=False,
            passkey_handle=None,  # a new user handle for the owner's passkeys
            updated_at=now,
        )
        .returning(User.id)
        .execution_options(synchronize_session=False)
    )
    return result.first() is not None


def _like_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def page(
    session: AsyncSession,
    *,
    email_part: str | None,
    role: str | None,
    disabled: bool | None,
    after: tuple[datetime, str] | None,
    limit: int,
    password_scheme: str | None = None,
) -> list[User]:
    """Users matching every filter given, oldest first, after the (created_at, id) key.
    `password_scheme` "": those without a password."""
    query = select(User).order_by(User.created_at, User.id).limit(limit)
    if email_part:
        query = query.where(User.email_key.like(f"%{_like_escaped(email_part.casefold())}%", escape="\\"))
    if role is not None:
        query = query.where(User.role == role)
    if disabled is not None:
        query = query.where(User.disabled.is_(disabled))
    if password_scheme == "":
        query = query.where(User.password_scheme.is_(None))
    elif password_scheme is not None:
        query = query.where(User.password_scheme == password_scheme)
    if after is not None:
        created, user_id = after
        query = query.where(or_(User.created_at > created, and_(User.created_at == created, User.id > user_id)))
    return list((await session.execute(query)).scalars())


async def delete_user(session: AsyncSession, *, user_id: str) -> bool:
    """Remove the account; its sessions, factors, one-time secrets and linked identities go
    with it (foreign keys cascade). The audit trail keeps its entries (no foreign key)."""
    result = await session.execute(
        delete(User).where(User.id == user_id).returning(User.id).execution_options(synchronize_session=False)
    )
    return result.first() is not None


async def count_by_scheme(session: AsyncSession) -> dict[str | None, int]:
    """Accounts per password scheme (None: without a password)."""
    rows = await session.execute(select(User.password_scheme, func.count()).group_by(User.password_scheme))
    return {scheme: int(count) for scheme, count in rows}


async def hashes_of_scheme(session: AsyncSession, *, scheme: str, after: str, limit: int) -> list[tuple[str, str]]:
    """(id, hash) of the accounts on `scheme`, by id after `after`: a page at a time."""
    rows = await session.execute(
        select(User.id, User.password_hash)
        .where(User.password_scheme == scheme, User.id > after)
        .order_by(User.id)
        .limit(limit)
    )
    return [(user_id, value) for user_id, value in rows if value is not None]
