"""Reading the audit trail (entries are appended by the unit of work only)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from authgate.storage.models import AuditEntry


async def newest_first(
    session: AsyncSession,
    *,
    user_id: str | None,
    types: Sequence[str],
    since: datetime | None,
    until: datetime | None,
    before_seq: int | None,
    limit: int,
) -> list[AuditEntry]:
    """Entries matching every filter given, by place descending, from before `before_seq`."""
    query = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(limit)
    if user_id is not None:
        query = query.where(AuditEntry.user_id == user_id)
    if types:
        query = query.where(AuditEntry.type.in_(types))
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if until is not None:
        query = query.where(AuditEntry.at < until)
    if before_seq is not None:
        query = query.where(AuditEntry.seq < before_seq)
    return list((await session.execute(query)).scalars())
