"""Reading and writing users."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from authgate.storage.models import User, utcnow


class DuplicateUser(Exception):
    """The email or username is taken; `field` says which."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


async def get(session: AsyncSession, *, user_id: str) -> User | None:
    return await session.get(User, user_id)


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


async def add(session: AsyncSession, *, user: User) -> User:
    """Insert; a unique-index race becomes DuplicateUser, never a 500."""
    session.add(user)
    try:
        await session.flush()
    except IntegrityError as exc:
        await session.rollback()
        text = str(exc.orig).lower()
        raise DuplicateUser("username" if "username" in text else "email") from None
    return user


async def update_fields(session: AsyncSession, *, user: User, fields: dict[str, Any]) -> User:
    for key, value in fields.items():
        setattr(user, key, value)
    user.updated_at = utcnow()
    try:
        await session.flush()
    except IntegrityError as exc:
        await session.rollback()
        text = str(exc.orig).lower()
        raise DuplicateUser("username" if "username" in text else "email") from None
    return user


async def set_password_hash(session: AsyncSession, *, user_id: str, password_hash: str) -> None:
    await session.execute(
        update(User).where(User.id == user_id).values(password_hash=password_hash, updated_at=utcnow())
    )
