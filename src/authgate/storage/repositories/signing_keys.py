"""Reading and writing the keys that sign access tokens (see models/keys.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from authgate.storage.models import SigningKey


async def add(session: AsyncSession, *, key: SigningKey) -> None:
    session.add(key)
    await session.flush()


async def usable(session: AsyncSession, *, now: datetime) -> list[SigningKey]:
    """Every key that still signs or verifies, oldest first."""
    query = (
        select(SigningKey)
        .where((SigningKey.expires_at.is_(None)) | (SigningKey.expires_at > now))
        .order_by(SigningKey.created_at, SigningKey.kid)
    )
    return list((await session.execute(query)).scalars())


async def all_keys(session: AsyncSession) -> list[SigningKey]:
    return list((await session.execute(select(SigningKey).order_by(SigningKey.created_at, SigningKey.kid))).scalars())


async def retire(session: AsyncSession, *, now: datetime, expires_at: datetime, only: str | None = None) -> list[str]:
    """Stop every signing key (or only `only`, if it still signs) from signing; they verify
    until `expires_at`. One conditional UPDATE: of two nodes retiring the same key at once,
    one finds it retired already. Returns the kids retired."""
    query = (
        update(SigningKey)
        .where(SigningKey.retired_at.is_(None))
        .values(retired_at=now, expires_at=expires_at)
        .returning(SigningKey.kid)
    )
    if only is not None:
        query = query.where(SigningKey.kid == only)
    return list((await session.execute(query)).scalars())


async def remove_expired(session: AsyncSession, *, now: datetime) -> None:
    await session.execute(delete(SigningKey).where(SigningKey.expires_at <= now))
