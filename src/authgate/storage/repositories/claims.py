"""Claiming rows that several workers compete for (outbox rows, events): the one way to do it.

Candidates are read `FOR UPDATE SKIP LOCKED` (on PostgreSQL: a row another worker is claiming
is passed over, not waited for; SQLite has one writer and ignores the clause), then taken with
one conditional UPDATE that repeats the conditions, so a row is claimed by exactly one worker
on every database.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from authgate.storage.models import Base

Row = TypeVar("Row", bound=Base)


async def claim(
    session: AsyncSession,
    entity: type[Row],
    *,
    where: tuple[ColumnElement[bool], ...],
    order_by: InstrumentedAttribute[Any],
    limit: int,
    values: dict[str, Any],
) -> list[Row]:
    """Set `values` on up to `limit` rows matching `where`, first by `order_by`; return them."""
    key = entity.id  # type: ignore[attr-defined]
    ids = list(
        (
            await session.execute(
                select(key).where(*where).order_by(order_by).limit(limit).with_for_update(skip_locked=True)
            )
        ).scalars()
    )
    if not ids:
        return []
    result = await session.execute(
        update(entity)
        .where(key.in_(ids), *where)
        .values(**values)
        .returning(entity)
        .execution_options(synchronize_session=False)
    )
    return list(result.scalars())
