"""The message outbox: enqueue, claim due rows, and record how each attempt went.

Rows are claimed with a conditional UPDATE that pushes `next_attempt_at` out by a lease, so
several workers (or processes) never send one row twice, and a worker that dies mid-send
leaves the row to be picked up again once the lease runs out.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from authgate.storage.models import OutboxMessage
from authgate.storage.models.outbox import EXPIRED, FAILED, PENDING


async def add(session: AsyncSession, *, row: OutboxMessage) -> None:
    session.add(row)
    await session.flush()


async def claim_due(session: AsyncSession, *, now: datetime, lease: timedelta, limit: int) -> list[OutboxMessage]:
    ids = list(
        (
            await session.execute(
                select(OutboxMessage.id)
                .where(OutboxMessage.status == PENDING, OutboxMessage.next_attempt_at <= now)
                .order_by(OutboxMessage.next_attempt_at)
                .limit(limit)
            )
        ).scalars()
    )
    claimed: list[OutboxMessage] = []
    for message_id in ids:
        result = await session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == message_id,
                OutboxMessage.status == PENDING,
                OutboxMessage.next_attempt_at <= now,
            )
            .values(next_attempt_at=now + lease, attempts=OutboxMessage.attempts + 1)
            .returning(OutboxMessage)
            .execution_options(synchronize_session=False)
        )
        row = result.scalar_one_or_none()
        if row is not None:
            claimed.append(row)
    return claimed


async def next_due(session: AsyncSession) -> datetime | None:
    result = await session.execute(
        select(func.min(OutboxMessage.next_attempt_at)).where(OutboxMessage.status == PENDING)
    )
    value = result.scalar_one_or_none()
    return value if isinstance(value, datetime) else None


async def mark_done(session: AsyncSession, *, message_id: str, status: str, now: datetime, keep_payload: bool) -> None:
    values: dict[str, object] = {"status": status, "sent_at": now, "last_error": None}
    if not keep_payload:
        values["payload"] = None
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


async def mark_failed_attempt(session: AsyncSession, *, message_id: str, error: str, retry_at: datetime | None) -> None:
    """Schedule the next try at `retry_at`, or give up (status failed, body erased) when None."""
    values: dict[str, object] = {"last_error": error[:500]}
    if retry_at is None:
        values.update(status=FAILED, payload=None)
    else:
        values["next_attempt_at"] = retry_at
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


async def mark_expired(session: AsyncSession, *, message_id: str) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(status=EXPIRED, payload=None)
        .execution_options(synchronize_session=False)
    )


async def recent(session: AsyncSession, *, limit: int) -> list[OutboxMessage]:
    result = await session.execute(select(OutboxMessage).order_by(OutboxMessage.created_at.desc()).limit(limit))
    return list(result.scalars())
