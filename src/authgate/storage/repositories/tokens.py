"""Reading and writing refresh tokens. Rotation is one conditional UPDATE, so that of N
concurrent uses of one token exactly one wins, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from authgate.storage.models import RefreshToken, Session, User


async def add(session: AsyncSession, *, row: RefreshToken) -> RefreshToken:
    session.add(row)
    await session.flush()
    return row


async def get(session: AsyncSession, *, token_id: str) -> RefreshToken | None:
    """A fresh read (never the identity map's copy): after losing a rotation race the
    caller must see what the winner committed."""
    result = await session.execute(
        select(RefreshToken).where(RefreshToken.id == token_id).execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none()


async def find_with_session(session: AsyncSession, *, token_hash: str) -> tuple[RefreshToken, Session, User] | None:
    """The token with this digest, its session and the session's user (whatever their state)."""
    result = await session.execute(
        select(RefreshToken, Session, User)
        .join(Session, Session.id == RefreshToken.session_id)
        .join(User, User.id == Session.user_id)
        .where(RefreshToken.token_hash == token_hash)
    )
    row = result.first()
    return None if row is None else (row[0], row[1], row[2])


async def session_id_for(session: AsyncSession, *, token_hash: str) -> str | None:
    result = await session.execute(select(RefreshToken.session_id).where(RefreshToken.token_hash == token_hash))
    return result.scalar_one_or_none()


async def rotate(
    session: AsyncSession, *, token_id: str, now: datetime, successor_id: str, successor_sealed: str
) -> bool:
    """Mark the token used, if it still is unused and unexpired; True for the one caller that
    did it. Concurrent callers block on the row (PostgreSQL) or the write lock (SQLite) and
    then find `rotated_at` set, so they get False."""
    result = await session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == token_id, RefreshToken.rotated_at.is_(None), RefreshToken.expires_at > now)
        .values(rotated_at=now, successor_id=successor_id, successor_sealed=successor_sealed)
        .returning(RefreshToken.id)
        .execution_options(synchronize_session=False)
    )
    return result.first() is not None


async def wipe_sealed_before(session: AsyncSession, *, before: datetime, limit: int = 100) -> None:
    """Forget sealed successors whose grace window is over. Rows another transaction holds
    are skipped (PostgreSQL `SKIP LOCKED`), so this sweep never waits or deadlocks."""
    stale = (
        select(RefreshToken.id)
        .where(RefreshToken.successor_sealed.is_not(None), RefreshToken.rotated_at < before)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.id.in_(stale))
        .values(successor_sealed=None)
        .execution_options(synchronize_session=False)
    )


async def wipe_sealed_for_sessions(session: AsyncSession, *, session_ids: list[str]) -> None:
    if not session_ids:
        return
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.session_id.in_(session_ids), RefreshToken.successor_sealed.is_not(None))
        .values(successor_sealed=None)
        .execution_options(synchronize_session=False)
    )
