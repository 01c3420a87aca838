"""Reading and writing OAuth clients (`oauth_clients`): the apps that sign their users in
through authgate, and the services that call it with client credentials (token
introspection's callers among them)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from authgate.storage.db import write_turn
from authgate.storage.models import OAuthClient, OAuthGrant

if TYPE_CHECKING:
    from sqlalchemy.engine import CursorResult


async def add(session: AsyncSession, *, client: OAuthClient) -> None:
    session.add(client)
    await session.flush()


async def get(session: AsyncSession, *, client_id: str) -> OAuthClient | None:
    return await session.get(OAuthClient, client_id, populate_existing=True)


async def lock(session: AsyncSession, *, client_id: str) -> OAuthClient | None:
    """The client, locked until the transaction ends (PostgreSQL; SQLite's write lock is the
    whole database's already)."""
    result = await session.execute(
        select(OAuthClient)
        .where(OAuthClient.id == client_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none()


async def all_clients(session: AsyncSession, *, kind: str | None = None) -> list[OAuthClient]:
    """Every client (of `kind`, when given), revoked ones included, oldest first."""
    query = select(OAuthClient).order_by(OAuthClient.created_at, OAuthClient.id)
    if kind is not None:
        query = query.where(OAuthClient.kind == kind)
    return list((await session.execute(query)).scalars())


async def page(session: AsyncSession, *, after: tuple[datetime, str] | None, limit: int) -> list[OAuthClient]:
    """Clients oldest first, after the (created_at, id) key, revoked ones included."""
    query = select(OAuthClient).order_by(OAuthClient.created_at, OAuthClient.id).limit(limit)
    if after is not None:
        created, client_id = after
        query = query.where(
            or_(OAuthClient.created_at > created, and_(OAuthClient.created_at == created, OAuthClient.id > client_id))
        )
    return list((await session.execute(query)).scalars())


async def touch(session: AsyncSession, *, client_id: str, now: datetime, unless_since: datetime) -> None:
    """Record a use at `now`, unless one was recorded at or after `unless_since`: one
    conditional statement, so nodes that find the stamp stale at once write it once."""
    async with write_turn(session):
        await session.execute(
            update(OAuthClient)
            .where(
                OAuthClient.id == client_id,
                or_(OAuthClient.last_used_at.is_(None), OAuthClient.last_used_at < unless_since),
            )
            .values(last_used_at=now)
            .execution_options(synchronize_session=False)
        )


async def end_grants(session: AsyncSession, *, client_id: str, now: datetime, reason: str) -> int:
    """End every grant of the client still running, in one statement; how many it ended."""
    result = await session.execute(
        update(OAuthGrant)
        .where(OAuthGrant.client_id == client_id, OAuthGrant.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
        .execution_options(synchronize_session=False)
    )
    return int(cast("CursorResult[Any]", result).rowcount)
