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
