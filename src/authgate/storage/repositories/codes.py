"""Emailed links, one-time codes and the code second factor.

Every consume is one conditional UPDATE ... RETURNING, so of N concurrent uses exactly one
gets a row back, on SQLite (one writer at a time) and PostgreSQL (the row lock re-checks the
WHERE clause after a concurrent update commits).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from authgate.storage.models import LinkToken, OneTimeCode, OtpFactor, User


@dataclass(frozen=True)
class ConsumedLink:
    user_id: str
    email: str
    redirect_to: str | None


async def add_link(session: AsyncSession, *, row: LinkToken) -> None:
    session.add(row)
    await session.flush()


async def peek_link(
    session: AsyncSession, *, token_digest: str, purpose: str, now: datetime
) -> tuple[LinkToken, User] | None:
    """The live (unused, unexpired) link and its user, without using it up."""
    result = await session.execute(
        select(LinkToken, User)
        .join(User, User.id == LinkToken.user_id)
        .where(
            LinkToken.token_digest == token_digest,
            LinkToken.purpose == purpose,
            LinkToken.used_at.is_(None),
            LinkToken.expires_at > now,
        )
    )
    row = result.first()
    return None if row is None else (row[0], row[1])


async def consume_link(session: AsyncSession, *, token_digest: str, purpose: str, now: datetime) -> ConsumedLink | None:
    result = await session.execute(
        update(LinkToken)
        .where(
            LinkToken.token_digest == token_digest,
            LinkToken.purpose == purpose,
            LinkToken.user_id.is_not(None),
            LinkToken.used_at.is_(None),
            LinkToken.expires_at > now,
        )
        .values(used_at=now)
        .returning(LinkToken.user_id, LinkToken.email, LinkToken.redirect_to)
        .execution_options(synchronize_session=False)
    )
    row = result.first()
    return None if row is None else ConsumedLink(user_id=str(row[0]), email=row[1], redirect_to=row[2])


async def void_links(session: AsyncSession, *, user_id: str, purposes: tuple[str, ...], now: datetime) -> None:
    await session.execute(
        update(LinkToken)
        .where(LinkToken.user_id == user_id, LinkToken.purpose.in_(purposes), LinkToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )


async def add_code(session: AsyncSession, *, row: OneTimeCode) -> None:
    session.add(row)
    await session.flush()


async def void_codes(
    session: AsyncSession,
    *,
    now: datetime,
    user_id: str | None = None,
    channel: str | None = None,
    destination: str | None = None,
    purpose: str | None = None,
) -> None:
    """Use up every outstanding code matching the given filters (at least one filter)."""
    stmt = update(OneTimeCode).where(OneTimeCode.used_at.is_(None))
    if user_id is not None:
        stmt = stmt.where(OneTimeCode.user_id == user_id)
    if channel is not None:
        stmt = stmt.where(OneTimeCode.channel == channel)
    if destination is not None:
        stmt = stmt.where(OneTimeCode.destination == destination)
    if purpose is not None:
        stmt = stmt.where(OneTimeCode.purpose == purpose)
    await session.execute(stmt.values(used_at=now).execution_options(synchronize_session=False))


async def latest_live_code(
    session: AsyncSession,
    *,
    channel: str,
    purpose: str,
    now: datetime,
    destination: str | None = None,
    user_id: str | None = None,
) -> OneTimeCode | None:
    stmt = select(OneTimeCode).where(
        OneTimeCode.user_id.is_not(None),
        OneTimeCode.channel == channel,
        OneTimeCode.purpose == purpose,
        OneTimeCode.used_at.is_(None),
        OneTimeCode.expires_at > now,
    )
    if destination is not None:
        stmt = stmt.where(OneTimeCode.destination == destination)
    if user_id is not None:
        stmt = stmt.where(OneTimeCode.user_id == user_id)
    result = await session.execute(stmt.order_by(OneTimeCode.created_at.desc()).limit(1))
    return result.scalar_one_or_none()


async def count_attempt(session: AsyncSession, *, code_id: str, max_attempts: int, now: datetime) -> bool:
    """Spend one try on a live code; False when none is left (or it is used or expired).
    Counting before comparing keeps the limit exact under parallel guesses."""
    result = await session.execute(
        update(OneTimeCode)
        .where(
            OneTimeCode.id == code_id,
            OneTimeCode.used_at.is_(None),
            OneTimeCode.expires_at > now,
            OneTimeCode.attempts < max_attempts,
        )
        .values(attempts=OneTimeCode.attempts + 1)
        .returning(OneTimeCode.id)
        .execution_options(synchronize_session=False)
    )
    return result.first() is not None


async def consume_code(session: AsyncSession, *, code_id: str, now: datetime) -> bool:
    result = await session.execute(
        update(OneTimeCode)
        .where(OneTimeCode.id == code_id, OneTimeCode.used_at.is_(None), OneTimeCode.expires_at > now)
        .values(used_at=now)
        .returning(OneTimeCode.id)
        .execution_options(synchronize_session=False)
    )
    return result.first() is not None


async def get_factor(session: AsyncSession, *, user_id: str) -> OtpFactor | None:
    return await session.get(OtpFactor, user_id)


async def set_factor(session: AsyncSession, *, user_id: str, channel: str, now: datetime) -> None:
    await session.execute(delete(OtpFactor).where(OtpFactor.user_id == user_id))
    session.add(OtpFactor(user_id=user_id, channel=channel, created_at=now))
    await session.flush()


async def delete_factor(session: AsyncSession, *, user_id: str) -> bool:
    result = await session.execute(delete(OtpFactor).where(OtpFactor.user_id == user_id).returning(OtpFactor.user_id))
    return result.first() is not None


async def find_user_by_phone(session: AsyncSession, *, phone: str, verified: bool) -> User | None:
    """The newest account with this phone in the given verification state (phones are not
    unique; a verified one proves possession, so logins only ever match verified phones)."""
    result = await session.execute(
        select(User)
        .where(User.phone == phone, User.phone_verified.is_(verified))
        .order_by(User.created_at.desc())
        .limit(1)
    )
    return result.scalar_one_or_none()
