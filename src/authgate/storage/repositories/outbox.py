"""The outbox: enqueue, claim due rows, record how each attempt went, and list one
webhook's deliveries.

Rows are claimed with a conditional UPDATE that pushes `next_attempt_at` out by a lease, so
several workers (or processes) never send one row twice, and a worker that dies mid-send
leaves the row to be picked up again once the lease runs out.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from authgate.storage.models import OutboxMessage
from authgate.storage.models.outbox import EXPIRED, FAILED, PENDING
from authgate.storage.repositories.claims import claim


async def add(session: AsyncSession, *, row: OutboxMessage) -> None:
    session.add(row)
    await session.flush()


async def claim_due(
    session: AsyncSession, *, now: datetime, lease: timedelta, limit: int, channels: tuple[str, ...]
) -> list[OutboxMessage]:
    """Claim up to `limit` due rows of `channels` by pushing them out by `lease` (and counting
    the attempt); exclusive across workers and processes (storage/repositories/claims.py)."""
    return await claim(
        session,
        OutboxMessage,
        where=(
            OutboxMessage.status == PENDING,
            OutboxMessage.next_attempt_at <= now,
            OutboxMessage.channel.in_(channels),
        ),
        order_by=OutboxMessage.next_attempt_at,
        limit=limit,
        values={"next_attempt_at": now + lease, "attempts": OutboxMessage.attempts + 1},
    )


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


async def for_recipient(
    session: AsyncSession, *, recipient: str, before: tuple[datetime, str] | None, limit: int
) -> list[OutboxMessage]:
    """Rows sent to `recipient` (a webhook id), newest first, after the (created_at, id) key."""
    query = select(OutboxMessage).where(OutboxMessage.recipient == recipient)
    if before is not None:
        created, message_id = before
        query = query.where(
            or_(
                OutboxMessage.created_at < created,
                and_(OutboxMessage.created_at == created, OutboxMessage.id < message_id),
            )
        )
    query = query.order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc()).limit(limit)
    return list((await session.execute(query)).scalars())


async def get_for_recipient(session: AsyncSession, *, message_id: str, recipient: str) -> OutboxMessage | None:
    result = await session.execute(
        select(OutboxMessage).where(OutboxMessage.id == message_id, OutboxMessage.recipient == recipient)
    )
    return result.scalar_one_or_none()


async def remove_for_recipient(session: AsyncSession, *, recipient: str) -> None:
    await session.execute(delete(OutboxMessage).where(OutboxMessage.recipient == recipient))


async def recent(session: AsyncSession, *, limit: int) -> list[OutboxMessage]:
    result = await session.execute(select(OutboxMessage).order_by(OutboxMessage.created_at.desc()).limit(limit))
    return list(result.scalars())
