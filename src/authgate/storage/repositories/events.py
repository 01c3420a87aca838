"""The events outbox: claim the events no courier has fanned out yet, and read one back."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from authgate.storage.models import EventRecord
from authgate.storage.repositories.claims import claim


async def claim_undispatched(session: AsyncSession, *, now: datetime, limit: int) -> list[EventRecord]:
    """Stamp up to `limit` of the oldest undispatched events as dispatched and return them;
    the caller fans them out in this same transaction, so an event is fanned out once, by one
    courier (storage/repositories/claims.py)."""
    return await claim(
        session,
        EventRecord,
        where=(EventRecord.dispatched_at.is_(None),),
        order_by=EventRecord.at,
        limit=limit,
        values={"dispatched_at": now},
    )


async def get(session: AsyncSession, *, event_id: str) -> EventRecord | None:
    return await session.get(EventRecord, event_id)
