"""Reading and writing what users allowed third-party apps."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from authgate.storage.db import upsert_insert
from authgate.storage.models import OAuthClient, OAuthConsent


async def get(session: AsyncSession, *, user_id: str, client_id: str) -> OAuthConsent | None:
    stmt = select(OAuthConsent).where(OAuthConsent.user_id == user_id, OAuthConsent.client_id == client_id)
    return (await session.execute(stmt.execution_options(populate_existing=True))).scalar_one_or_none()


async def put(session: AsyncSession, *, user_id: str, client_id: str, scopes: str, now: datetime) -> None:
    """Record the scopes allowed, replacing an earlier decision's: one upsert, so two consents
    given at once (two tabs) cannot collide."""
    stmt = upsert_insert(session)(OAuthConsent).values(
        user_id=user_id, client_id=client_id, scopes=scopes, granted_at=now
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[OAuthConsent.user_id, OAuthConsent.client_id],
            set_={"scopes": stmt.excluded.scopes, "granted_at": stmt.excluded.granted_at},
        )
    )


async def remove(session: AsyncSession, *, user_id: str, client_id: str) -> bool:
    result = await session.execute(
        delete(OAuthConsent)
        .where(OAuthConsent.user_id == user_id, OAuthConsent.client_id == client_id)
        .returning(OAuthConsent.client_id)
    )
    return result.first() is not None


async def of_user(session: AsyncSession, *, user_id: str) -> list[tuple[OAuthConsent, OAuthClient]]:
    """The user's consents with their clients, newest first."""
    stmt = (
        select(OAuthConsent, OAuthClient)
        .join(OAuthClient, OAuthClient.id == OAuthConsent.client_id)
        .where(OAuthConsent.user_id == user_id)
        .order_by(OAuthConsent.granted_at.desc(), OAuthConsent.client_id)
    )
    return [(consent, client) for consent, client in (await session.execute(stmt)).all()]
