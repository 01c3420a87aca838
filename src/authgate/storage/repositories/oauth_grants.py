"""Reading and writing the provider's grants: what a code exchange started, with its own
rotating refresh token. Ending a grant is one conditional UPDATE, so it ends once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from authgate.storage.models import OAuthClient, OAuthGrant, OAuthRetiredToken, Session, User


async def add(session: AsyncSession, *, grant: OAuthGrant) -> None:
    session.add(grant)
    await session.flush()


FRESH = {"populate_existing": True}  # a re-read after losing a race must see what the winner wrote


async def get(session: AsyncSession, *, grant_id: str) -> OAuthGrant | None:
    stmt = select(OAuthGrant).where(OAuthGrant.id == grant_id).execution_options(**FRESH)
    return (await session.execute(stmt)).scalar_one_or_none()


async def by_code(session: AsyncSession, *, code_hash: str) -> OAuthGrant | None:
    """The grant a code bought (a code presented again is a replay)."""
    stmt = select(OAuthGrant).where(OAuthGrant.code_hash == code_hash).execution_options(**FRESH)
    return (await session.execute(stmt)).scalar_one_or_none()


async def by_refresh(session: AsyncSession, *, token_hash: str) -> OAuthGrant | None:
    """The grant whose current or just-rotated refresh token has this digest."""
    stmt = select(OAuthGrant).where(
        or_(OAuthGrant.refresh_hash == token_hash, OAuthGrant.previous_refresh_hash == token_hash)
    )
    return (await session.execute(stmt.limit(1).execution_options(**FRESH))).scalar_one_or_none()


async def of_retired(session: AsyncSession, *, token_hash: str) -> str | None:
    """The grant that rotated this refresh token out, long ago."""
    stmt = select(OAuthRetiredToken.grant_id).where(OAuthRetiredToken.token_hash == token_hash)
    return (await session.execute(stmt)).scalar_one_or_none()


async def rotate(
    session: AsyncSession,
    *,
    grant_id: str,
    presented: str,
    new_hash: str,
    sealed: str,
    now: datetime,
    expires_at: datetime,
) -> bool:
    """Swap the current refresh token for a new one, if `presented` is still current: True
    for exactly one of any number of concurrent callers. The old digest is kept as retired."""
    result = await session.execute(
        update(OAuthGrant)
        .where(OAuthGrant.id == grant_id, OAuthGrant.refresh_hash == presented, OAuthGrant.revoked_at.is_(None))
        .values(
            refresh_hash=new_hash,
            previous_refresh_hash=presented,
            rotated_at=now,
            successor_sealed=sealed,
            last_used_at=now,
            expires_at=expires_at,
        )
        .returning(OAuthGrant.id)
        .execution_options(synchronize_session=False)
    )
    if result.first() is None:
        return False
    session.add(OAuthRetiredToken(token_hash=presented, grant_id=grant_id))
    await session.flush()
    return True


async def end(
    session: AsyncSession,
    *,
    now: datetime,
    reason: str,
    grant_ids: Sequence[str] | None = None,
    user_id: str | None = None,
    client_id: str | None = None,
    session_ids: Sequence[str] | None = None,
    online_only: bool = False,
) -> list[OAuthGrant]:
    """End the live grants that match every condition given; returns those it ended."""
    conditions: list[ColumnElement[bool]] = [OAuthGrant.revoked_at.is_(None)]
    if grant_ids is not None:
        conditions.append(OAuthGrant.id.in_(list(grant_ids)))
    if user_id is not None:
        conditions.append(OAuthGrant.user_id == user_id)
    if client_id is not None:
        conditions.append(OAuthGrant.client_id == client_id)
    if session_ids is not None:
        conditions.append(OAuthGrant.session_id.in_(list(session_ids)))
    if online_only:
        conditions.append(OAuthGrant.offline.is_(False))
    result = await session.execute(
        update(OAuthGrant)
        .where(and_(*conditions))
        .values(revoked_at=now, revoked_reason=reason, successor_sealed=None)
        .returning(OAuthGrant)
        .execution_options(synchronize_session=False)
    )
    return list(result.scalars())


async def with_parts(
    session: AsyncSession, *, grant_id: str
) -> tuple[OAuthGrant, OAuthClient, User, Session | None] | None:
    """A grant with its client, its user and (for an online grant) its browser session: what
    decides whether it is live."""
    stmt = (
        select(OAuthGrant, OAuthClient, User, Session)
        .join(OAuthClient, OAuthClient.id == OAuthGrant.client_id)
        .join(User, User.id == OAuthGrant.user_id)
        .outerjoin(Session, Session.id == OAuthGrant.session_id)
        .where(OAuthGrant.id == grant_id)
        .execution_options(populate_existing=True)
    )
    row = (await session.execute(stmt)).first()
    if row is None:
        return None
    grant, client, user, browser = row
    return grant, client, user, browser
