"""Linked provider identities (social login)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from authgate.storage.models import LinkedIdentity


class IdentityTaken(Exception):
    """The identity is linked to an account already, or the account has one at this provider."""


async def find(session: AsyncSession, *, provider: str, subject: str) -> LinkedIdentity | None:
    result = await session.execute(
        select(LinkedIdentity).where(LinkedIdentity.provider == provider, LinkedIdentity.subject == subject)
    )
    return result.scalar_one_or_none()


async def of_user(session: AsyncSession, *, user_id: str) -> list[LinkedIdentity]:
    result = await session.execute(
        select(LinkedIdentity).where(LinkedIdentity.user_id == user_id).order_by(LinkedIdentity.created_at)
    )
    return list(result.scalars())


async def add(session: AsyncSession, *, identity: LinkedIdentity) -> None:
    """Store a link; IdentityTaken when it (or one at this provider) is linked already, even by a
    concurrent request. The transaction is then spoilt: the caller lets it roll back."""
    session.add(identity)
    try:
        await session.flush()
    except IntegrityError:
        raise IdentityTaken from None


async def touch(session: AsyncSession, *, identity_id: str, email: str | None, now: datetime) -> None:
    await session.execute(
        update(LinkedIdentity)
        .where(LinkedIdentity.id == identity_id)
        .values(email=email, last_used_at=now)
        .execution_options(synchronize_session=False)
    )


async def remove(session: AsyncSession, *, user_id: str, provider: str) -> bool:
    result = await session.execute(
        delete(LinkedIdentity)
        .where(LinkedIdentity.user_id == user_id, LinkedIdentity.provider == provider)
        .returning(LinkedIdentity.id)
    )
    return result.first() is not None


async def remove_all(session: AsyncSession, *, user_id: str) -> None:
    await session.execute(delete(LinkedIdentity).where(LinkedIdentity.user_id == user_id))


async def count(session: AsyncSession, *, user_id: str) -> int:
    result = await session.execute(select(func.count()).where(LinkedIdentity.user_id == user_id))
    return int(result.scalar_one())
