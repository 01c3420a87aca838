"""Reading and writing service credentials (the callers of token introspection): the
`oauth_clients` rows of kind `service`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from authgate.storage.db import write_turn
from authgate.storage.models import OAuthClient as ServiceCredential
from authgate.storage.models.oauth2 import SERVICE


async def add(session: AsyncSession, *, credential: ServiceCredential) -> None:
    session.add(credential)
    await session.flush()


async def all_credentials(session: AsyncSession) -> list[ServiceCredential]:
    """Every credential, revoked ones included, oldest first."""
    result = await session.execute(
        select(ServiceCredential)
        .where(ServiceCredential.kind == SERVICE)
        .order_by(ServiceCredential.created_at, ServiceCredential.id)
    )
    return list(result.scalars())


async def get(session: AsyncSession, *, credential_id: str) -> ServiceCredential | None:
    return await session.get(ServiceCredential, credential_id, populate_existing=True)


async def lock(session: AsyncSession, *, credential_id: str) -> ServiceCredential | None:
    result = await session.execute(
        select(ServiceCredential)
        .where(ServiceCredential.id == credential_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none()


async def touch(session: AsyncSession, *, credential_id: str, now: datetime, unless_since: datetime) -> None:
    """Record a use at `now`, unless one was recorded at or after `unless_since`: one
    conditional statement, so nodes that find the stamp stale at once write it once."""
    async with write_turn(session):
        await session.execute(
            update(ServiceCredential)
            .where(
                ServiceCredential.id == credential_id,
                or_(ServiceCredential.last_used_at.is_(None), ServiceCredential.last_used_at < unless_since),
            )
            .values(last_used_at=now)
            .execution_options(synchronize_session=False)
        )
