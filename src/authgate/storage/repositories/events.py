"""The events outbox: claim the events no courier has fanned out yet, and read one back."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from authgate.storage.models import EventRecord


async def claim_undispatched(session: AsyncSession, *, now: datetime, limit: int) -> list[EventRecord]:
    """Stamp up to `limit` of the oldest undispatched events as dispatched and return them;
    the caller fans them out in this same transaction. Two couriers never take one event: the
    UPDATE only takes rows still unstamped (and on PostgreSQL the candidates are read
    `FOR UPDATE SKIP LOCKED`, so the other courier takes the next ones instead of waiting)."""
    ids = list(
        (
            await session.execute(
                select(EventRecord.id)
                .where(EventRecord.dispatched_at.is_(None))
                .order_by(EventRecord.at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).scalars()
    )
    if not ids:
        return []
    result = await session.execute(
        update(EventRecord)
        .where(EventRecord.id.in_(ids), EventRecord.dispatched_at.is_(None))
        .values(dispatched_at=now)
        .returning(EventRecord)
        .execution_options(synchronize_session=False)
    )
    return list(result.scalars())


async def get(session: AsyncSession, *, event_id: str) -> EventRecord | None:
    return await session.get(EventRecord, event_id)
