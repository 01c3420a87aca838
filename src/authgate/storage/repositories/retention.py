"""Deleting what the server no longer needs, one bounded batch per statement.

Each function deletes at most `limit` rows and returns how many it deleted, so the caller
(runtime/retention.py) can run batch after batch, each in its own short transaction, and
stop when one comes back short. Every condition is served by an index (migration 0011), so a
batch never scans a whole table.

Candidates are read `FOR UPDATE SKIP LOCKED` (on PostgreSQL: rows another node is deleting
are passed over, not waited for; SQLite has one writer and ignores the clause); a row two
nodes both pick is deleted once, so purging on several nodes at once is harmless.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from authgate.storage.models import (
    EventRecord,
    OAuthGrant,
    OAuthRetiredToken,
    OneTimeSecret,
    OutboxMessage,
    RetiredRefreshToken,
    Session,
    SigningKey,
)
from authgate.storage.models.outbox import CANCELLED, EXPIRED, FAILED, LOGGED, PENDING, SENT, SUPPRESSED

# Outbox states no courier will touch again; `pending` (due, waiting, or leased) is never here.
FINISHED = (SENT, LOGGED, FAILED, EXPIRED, CANCELLED, SUPPRESSED)


async def _delete(session: AsyncSession, key: InstrumentedAttribute[Any], candidates: Select[Any]) -> int:
    """Delete the rows whose `key` is among `candidates` (a bounded SELECT of that key)."""
    table = key.class_.__table__
    chosen = candidates.with_for_update(skip_locked=True, of=table).scalar_subquery()
    result = await session.execute(
        delete(key.class_).where(key.in_(chosen)).execution_options(synchronize_session=False)
    )
    deleted: int = result.rowcount  # type: ignore[attr-defined]
    return deleted


async def expired_secrets(session: AsyncSession, *, before: datetime, limit: int) -> int:
    """One-time secrets of every purpose (links, codes, decoys, mfaTokens, OAuth state) that
    expired before `before`; used or not, they can no longer match anything."""
    candidates = select(OneTimeSecret.id).where(OneTimeSecret.expires_at < before).limit(limit)
    return await _delete(session, OneTimeSecret.id, candidates)


async def finished_outbox(session: AsyncSession, *, before: datetime, limit: int) -> int:
    """Outbox rows in a final state reached before `before` (sent or logged: `sent_at`; the
    others keep no time of their own: `created_at`). `sent_at` is never before `created_at`,
    so the `created_at` bound lets the (status, created_at) index find them."""
    candidates = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.status.in_(FINISHED),
            OutboxMessage.created_at < before,
            func.coalesce(OutboxMessage.sent_at, OutboxMessage.created_at) < before,
        )
        .limit(limit)
    )
    return await _delete(session, OutboxMessage.id, candidates)


async def dispatched_events(session: AsyncSession, *, before: datetime, limit: int) -> int:
    """Events handed to the webhooks before `before`. An event that a delivery still waiting
    in the outbox carries is kept: the delivery reads it when it goes out."""
    still_carried = select(OutboxMessage.event_id).where(
        OutboxMessage.status == PENDING, OutboxMessage.event_id.is_not(None)
    )
    candidates = (
        select(EventRecord.id)
        .where(EventRecord.dispatched_at < before, EventRecord.id.notin_(still_carried))
        .limit(limit)
    )
    return await _delete(session, EventRecord.id, candidates)


def _ended_before(before: datetime) -> ColumnElement[bool]:
    """A session that expired or was revoked before `before`. `expires_at` never passes the
    absolute end (`ends_at`), so a session past its end has expired too."""
    return or_(Session.expires_at < before, Session.revoked_at < before)


async def retired_tokens_of_ended_sessions(session: AsyncSession, *, before: datetime, limit: int) -> int:
    """The retired refresh tokens of sessions that ended before `before`, deleted ahead of the
    sessions themselves: a long-lived session may have thousands, which the ON DELETE
    CASCADE would otherwise remove in one unbounded statement."""
    ended = select(Session.id).where(_ended_before(before))
    candidates = select(RetiredRefreshToken.token_hash).where(RetiredRefreshToken.session_id.in_(ended)).limit(limit)
    return await _delete(session, RetiredRefreshToken.token_hash, candidates)


async def ended_sessions(session: AsyncSession, *, before: datetime, limit: int) -> int:
    """Sessions that ended before `before` (what they still hold goes with them: CASCADE)."""
    candidates = select(Session.id).where(_ended_before(before)).limit(limit)
    return await _delete(session, Session.id, candidates)


def _grant_ended_before(before: datetime) -> ColumnElement[bool]:
    return or_(OAuthGrant.expires_at < before, OAuthGrant.revoked_at < before)


async def retired_tokens_of_ended_grants(session: AsyncSession, *, before: datetime, limit: int) -> int:
    """An app grant's rotated-out refresh tokens, ahead of the grant (as for sessions)."""
    ended = select(OAuthGrant.id).where(_grant_ended_before(before))
    candidates = select(OAuthRetiredToken.token_hash).where(OAuthRetiredToken.grant_id.in_(ended)).limit(limit)
    return await _delete(session, OAuthRetiredToken.token_hash, candidates)


async def ended_grants(session: AsyncSession, *, before: datetime, limit: int) -> int:
    """Apps' grants that ended before `before`."""
    candidates = select(OAuthGrant.id).where(_grant_ended_before(before)).limit(limit)
    return await _delete(session, OAuthGrant.id, candidates)


async def expired_signing_keys(session: AsyncSession, *, now: datetime, limit: int) -> int:
    """Signing keys whose grace ended: they verify nothing any more (a retired key still in
    its grace has a later `expires_at`; the signing key has none)."""
    candidates = select(SigningKey.kid).where(SigningKey.expires_at <= now).limit(limit)
    return await _delete(session, SigningKey.kid, candidates)
