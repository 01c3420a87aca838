"""Passkeys: each account's WebAuthn credentials, and its user handle.

The counter, the backup state and `last_used_at` change only by `record_use`, conditionally on
the counter read before the assertion was checked: of two concurrent assertions of one passkey
that both claim the next count, one wins."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from authgate.storage.models import Passkey, User


class PasskeyExists(Exception):
    """This credential id is registered already (to any account)."""


async def of_user(session: AsyncSession, *, user_id: str) -> list[Passkey]:
    """The account's passkeys, oldest first."""
    result = await session.execute(
        select(Passkey).where(Passkey.user_id == user_id).order_by(Passkey.created_at, Passkey.id)
    )
    return list(result.scalars())


async def count(session: AsyncSession, *, user_id: str) -> int:
    result = await session.execute(select(func.count()).select_from(Passkey).where(Passkey.user_id == user_id))
    return int(result.scalar_one())


async def by_credential(session: AsyncSession, *, credential_id: str) -> Passkey | None:
    result = await session.execute(select(Passkey).where(Passkey.credential_id == credential_id))
    return result.scalar_one_or_none()


async def with_owner(session: AsyncSession, *, credential_id: str) -> tuple[Passkey, User] | None:
    """The passkey with this credential id and its account, in one query (a sign-in's lookup)."""
    result = await session.execute(
        select(Passkey, User).join(User, User.id == Passkey.user_id).where(Passkey.credential_id == credential_id)
    )
    row = result.first()
    return (row[0], row[1]) if row is not None else None


async def add(session: AsyncSession, *, passkey: Passkey) -> None:
    """Store a new passkey; PasskeyExists when its credential id is registered already, even by a
    concurrent request. The transaction is then spoilt: the caller lets it roll back."""
    session.add(passkey)
    try:
        await session.flush()
    except IntegrityError:
        raise PasskeyExists from None


async def rename(session: AsyncSession, *, user_id: str, passkey_id: str, name: str) -> Passkey | None:
    result = await session.execute(
        update(Passkey)
        .where(Passkey.id == passkey_id, Passkey.user_id == user_id)
        .values(name=name)
        .returning(Passkey)
        .execution_options(synchronize_session=False)
    )
    return result.scalar_one_or_none()


async def remove(session: AsyncSession, *, user_id: str, passkey_id: str) -> Passkey | None:
    """Delete the passkey; the row it was, or None when the account has no such passkey."""
    result = await session.execute(
        delete(Passkey).where(Passkey.id == passkey_id, Passkey.user_id == user_id).returning(Passkey)
    )
    return result.scalar_one_or_none()


async def remove_all(session: AsyncSession, *, user_id: str) -> list[str]:
    """Delete every passkey of the account; the ids they had."""
    result = await session.execute(delete(Passkey).where(Passkey.user_id == user_id).returning(Passkey.id))
    return list(result.scalars())


async def record_use(
    session: AsyncSession,
    *,
    user_id: str,
    passkey_id: str,
    old_count: int,
    new_count: int,
    backed_up: bool,
    now: datetime,
) -> bool:
    """After a verified assertion: the new counter and backup state, only if the passkey is
    still the account's and its counter the one the assertion was checked against. True when
    this call recorded it."""
    result = await session.execute(
        update(Passkey)
        .where(Passkey.id == passkey_id, Passkey.user_id == user_id, Passkey.sign_count == old_count)
        .values(sign_count=new_count, backed_up=backed_up, last_used_at=now)
        .returning(Passkey.id)
        .execution_options(synchronize_session=False)
    )
    return result.first() is not None


async def handle_of(session: AsyncSession, *, user_id: str, new_handle: str) -> str | None:
    """The account's WebAuthn user handle, made `new_handle` if it has none yet (the first
    writer wins under a race); None when the account is gone."""
    await session.execute(
        update(User)
        .where(User.id == user_id, User.passkey_handle.is_(None))
        .values(passkey_handle=new_handle)
        .execution_options(synchronize_session=False)
    )
    result = await session.execute(select(User.passkey_handle).where(User.id == user_id))
    return result.scalar_one_or_none()
