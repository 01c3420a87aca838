"""The one store for one-time secrets (links, codes, MFA challenges, ...).

Three moves make every such secret safe under parallel requests, on SQLite (one writer at a
time) and PostgreSQL (a row lock re-checks the WHERE clause after a concurrent update):
- `spend_attempt`: one conditional UPDATE counts a try before the secret is compared, so at
  most `max_attempts` comparisons ever happen, however many requests race;
- `consume` / `consume_by_digest`: one conditional UPDATE ... RETURNING marks it used, so of N
  concurrent uses exactly one gets a row back;
- `void`: use up what is outstanding (a new code replaces the old, a password change voids
  links and codes).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from authgate.storage.db import upsert_insert
from authgate.storage.models import OneTimeSecret

_LIVE = (OneTimeSecret.used_at.is_(None),)


async def add(session: AsyncSession, *, row: OneTimeSecret) -> None:
    session.add(row)
    await session.flush()


async def peek(session: AsyncSession, *, purpose: str, digest: str, now: datetime) -> OneTimeSecret | None:
    """The live secret with this digest (never a decoy), without using it up."""
    result = await session.execute(
        select(OneTimeSecret).where(
            OneTimeSecret.digest == digest,
            OneTimeSecret.purpose == purpose,
            OneTimeSecret.user_id.is_not(None),
            OneTimeSecret.expires_at > now,
            *_LIVE,
        )
    )
    return result.scalar_one_or_none()


async def add_once(session: AsyncSession, *, row: OneTimeSecret) -> None:
    """Store `row` unless a row with its digest exists (two requests recording one thing)."""
    values = {column.key: getattr(row, column.key) for column in OneTimeSecret.__table__.columns}
    stmt = upsert_insert(session)(OneTimeSecret).values(**values).on_conflict_do_nothing(index_elements=["digest"])
    await session.execute(stmt)


async def find(session: AsyncSession, *, purpose: str, digest: str) -> OneTimeSecret | None:
    """The secret with this digest whatever its state (used, expired): for telling a request
    that took too long from one that never was."""
    stmt = select(OneTimeSecret).where(OneTimeSecret.digest == digest, OneTimeSecret.purpose == purpose)
    return (await session.execute(stmt.execution_options(populate_existing=True))).scalar_one_or_none()


async def latest(
    session: AsyncSession, *, purpose: str, now: datetime, address: str | None = None, user_id: str | None = None
) -> OneTimeSecret | None:
    """The newest live secret (never a decoy) of `purpose` sent to `address` / for `user_id`."""
    stmt = select(OneTimeSecret).where(
        OneTimeSecret.purpose == purpose,
        OneTimeSecret.user_id.is_not(None),
        OneTimeSecret.expires_at > now,
        *_LIVE,
    )
    if address is not None:
        stmt = stmt.where(OneTimeSecret.address == address)
    if user_id is not None:
        stmt = stmt.where(OneTimeSecret.user_id == user_id)
    result = await session.execute(stmt.order_by(OneTimeSecret.created_at.desc()).limit(1))
    return result.scalar_one_or_none()


async def spend_attempt(
    session: AsyncSession, *, purpose: str, now: datetime, secret_id: str | None = None, digest: str | None = None
) -> OneTimeSecret | None:
    """Count one try against a live secret (by id or digest); None when it is unknown, used,
    expired or out of tries. Counting comes before comparing, so the limit is exact."""
    key = OneTimeSecret.id == secret_id if secret_id is not None else OneTimeSecret.digest == digest
    result = await session.execute(
        update(OneTimeSecret)
        .where(
            key,
            OneTimeSecret.purpose == purpose,
            OneTimeSecret.user_id.is_not(None),
            OneTimeSecret.expires_at > now,
            OneTimeSecret.attempts < OneTimeSecret.max_attempts,
            *_LIVE,
        )
        .values(attempts=OneTimeSecret.attempts + 1)
        .returning(OneTimeSecret)
        .execution_options(synchronize_session=False)
    )
    return result.scalar_one_or_none()


async def consume(session: AsyncSession, *, secret_id: str, now: datetime) -> bool:
    """Use the secret up; True for exactly one of any number of concurrent callers."""
    result = await session.execute(
        update(OneTimeSecret)
        .where(OneTimeSecret.id == secret_id, OneTimeSecret.expires_at > now, *_LIVE)
        .values(used_at=now)
        .returning(OneTimeSecret.id)
        .execution_options(synchronize_session=False)
    )
    return result.first() is not None


async def consume_by_digest(
    session: AsyncSession,
    *,
    purpose: str,
    digest: str,
    now: datetime,
    address: str | None = None,
    user_id: str | None = None,
    anonymous: bool = False,
) -> OneTimeSecret | None:
    """Use up the live secret with this digest (a clicked link); the row for the one winner.
    With `address` or `user_id`, only if it was issued to that address or account (another one
    cannot even use it up). Rows without a user are decoys and match nothing, unless
    `anonymous` (OAuth state and passkey sign-in challenges, issued before anyone is known)."""
    owned = () if anonymous else (OneTimeSecret.user_id.is_not(None),)
    issued_to = () if address is None else (OneTimeSecret.address == address,)
    if user_id is not None:
        issued_to = (*issued_to, OneTimeSecret.user_id == user_id)
    result = await session.execute(
        update(OneTimeSecret)
        .where(
            OneTimeSecret.digest == digest,
            OneTimeSecret.purpose == purpose,
            *owned,
            *issued_to,
            OneTimeSecret.expires_at > now,
            *_LIVE,
        )
        .values(used_at=now)
        .returning(OneTimeSecret)
        .execution_options(synchronize_session=False)
    )
    return result.scalar_one_or_none()


async def void(
    session: AsyncSession,
    *,
    now: datetime,
    purposes: Iterable[str],
    user_id: str | None = None,
    address: str | None = None,
) -> None:
    """Use up every outstanding secret of these purposes for `user_id` and/or to `address`."""
    stmt = update(OneTimeSecret).where(OneTimeSecret.purpose.in_(list(purposes)), *_LIVE)
    if user_id is not None:
        stmt = stmt.where(OneTimeSecret.user_id == user_id)
    if address is not None:
        stmt = stmt.where(OneTimeSecret.address == address)
    await session.execute(stmt.values(used_at=now).execution_options(synchronize_session=False))


async def purge(session: AsyncSession, *, user_id: str, purpose: str, now: datetime) -> None:
    """Drop the user's used or expired secrets of `purpose`, so the table stays small."""
    await session.execute(
        delete(OneTimeSecret).where(
            OneTimeSecret.user_id == user_id,
            OneTimeSecret.purpose == purpose,
            or_(OneTimeSecret.used_at.is_not(None), OneTimeSecret.expires_at <= now),
        )
    )
