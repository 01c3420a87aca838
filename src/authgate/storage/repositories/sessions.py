"""Reading and writing sign-in sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from authgate.storage.models import Session, User, utcnow


async def add(session: AsyncSession, *, row: Session) -> Session:
    session.add(row)
    await session.flush()
    return row


async def get_active_with_user(session: AsyncSession, *, session_id: str, now: datetime) -> tuple[Session, User] | None:
    """The live session and its user, or None if revoked, expired or unknown."""
    result = await session.execute(
        select(Session, User)
        .join(User, User.id == Session.user_id)
        .where(Session.id == session_id, Session.revoked_at.is_(None), Session.expires_at > now)
    )
    row = result.first()
    return None if row is None else (row[0], row[1])


async def revoke_for_user(session: AsyncSession, *, user_id: str, keep: str | None = None) -> list[str]:
    """Revoke the user's live sessions, except `keep`; returns the ids revoked."""
    stmt = (
        update(Session)
        .where(Session.user_id == user_id, Session.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .returning(Session.id)
        .execution_options(synchronize_session=False)
    )
    if keep is not None:
        stmt = stmt.where(Session.id != keep)
    return list((await session.execute(stmt)).scalars())


async def list_active(session: AsyncSession, *, user_id: str, now: datetime) -> list[Session]:
    """The user's live sessions, most recently used first."""
    result = await session.execute(
        select(Session)
        .where(Session.user_id == user_id, Session.revoked_at.is_(None), Session.expires_at > now)
        .order_by(Session.last_used_at.desc(), Session.id)
    )
    return list(result.scalars())


async def touch(session: AsyncSession, *, session_id: str, now: datetime, expires_at: datetime) -> bool:
    """Record a refresh: last use now, and the lifetime slides to the new refresh token's.
    False if the session was revoked meanwhile."""
    result = await session.execute(
        update(Session)
        .where(Session.id == session_id, Session.revoked_at.is_(None))
        .values(last_used_at=now, expires_at=expires_at)
        .returning(Session.id)
        .execution_options(synchronize_session=False)
    )
    return result.first() is not None


async def revoke(session: AsyncSession, *, session_ids: list[str], user_id: str | None = None) -> list[str]:
    """Revoke these sessions if live (and, with `user_id`, only that user's); returns the ids revoked."""
    if not session_ids:
        return []
    stmt = (
        update(Session)
        .where(Session.id.in_(session_ids), Session.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .returning(Session.id)
        .execution_options(synchronize_session=False)
    )
    if user_id is not None:
        stmt = stmt.where(Session.user_id == user_id)
    return list((await session.execute(stmt)).scalars())
