"""Reading and writing webhook subscriptions."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from authgate.storage.models import Webhook


async def add(session: AsyncSession, *, webhook: Webhook) -> None:
    session.add(webhook)
    await session.flush()


async def all_webhooks(session: AsyncSession) -> list[Webhook]:
    return list((await session.execute(select(Webhook).order_by(Webhook.created_at, Webhook.id))).scalars())


async def active(session: AsyncSession) -> list[Webhook]:
    return list((await session.execute(select(Webhook).where(Webhook.active.is_(True)))).scalars())


async def get(session: AsyncSession, *, webhook_id: str) -> Webhook | None:
    return await session.get(Webhook, webhook_id, populate_existing=True)


async def lock(session: AsyncSession, *, webhook_id: str) -> Webhook | None:
    result = await session.execute(
        select(Webhook).where(Webhook.id == webhook_id).with_for_update().execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none()


async def remove(session: AsyncSession, *, webhook_id: str) -> None:
    await session.execute(delete(Webhook).where(Webhook.id == webhook_id))
