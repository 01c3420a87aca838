"""Reading and writing second-factor state: the TOTP credential, recovery codes and the
one-time-code factor. Every one-time thing here (a TOTP time step, a recovery code) is
consumed by one conditional UPDATE whose rowcount says who won, so N concurrent uses give
exactly one success on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from authgate.storage.db import upsert_insert
from authgate.storage.models import CodeFactor, RecoveryCode, TotpCredential


def _rowcount(result: Any) -> int:
    assert isinstance(result, CursorResult)
    return int(result.rowcount)


# --- TOTP ---------------------------------------------------------------------------------


async def get_totp(session: AsyncSession, *, user_id: str) -> TotpCredential | None:
    result = await session.execute(select(TotpCredential).where(TotpCredential.user_id == user_id))
    return result.scalar_one_or_none()


async def put_pending_secret(session: AsyncSession, *, user_id: str, sealed: str, now: datetime) -> bool:
    """Store the secret setup just issued, replacing an earlier pending one; False (and no
    change) when the user already has TOTP enabled. One upsert, so concurrent setups are safe."""
    stmt = upsert_insert(session)(TotpCredential).values(
        user_id=user_id, pending_secret=sealed, created_at=now, updated_at=now
    )
    upsert = stmt.on_conflict_do_update(
        index_elements=[TotpCredential.user_id],
        set_={"pending_secret": stmt.excluded.pending_secret, "updated_at": stmt.excluded.updated_at},
        where=TotpCredential.secret.is_(None),
    ).returning(TotpCredential.user_id)
    return (await session.execute(upsert)).first() is not None


async def activate_totp(session: AsyncSession, *, user_id: str, pending: str, step: int, now: datetime) -> bool:
    """Promote the pending secret, if it is still exactly `pending` and TOTP is not on yet.
    The enabling code's step becomes the last accepted one, so it cannot be replayed."""
    result = await session.execute(
        update(TotpCredential)
        .where(
            TotpCredential.user_id == user_id,
            TotpCredential.secret.is_(None),
            TotpCredential.pending_secret == pending,
        )
        .values(secret=pending, pending_secret=None, last_step=step, enabled_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


async def accept_step(session: AsyncSession, *, user_id: str, step: int, now: datetime) -> bool:
    """Record `step` as used if it is later than the last accepted one: a code is accepted
    once, and never one older than a code already accepted (RFC 6238 §5.2)."""
    result = await session.execute(
        update(TotpCredential)
        .where(
            TotpCredential.user_id == user_id,
            TotpCredential.secret.is_not(None),
            or_(TotpCredential.last_step.is_(None), TotpCredential.last_step < step),
        )
        .values(last_step=step, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


async def delete_totp(session: AsyncSession, *, user_id: str) -> bool:
    result = await session.execute(delete(TotpCredential).where(TotpCredential.user_id == user_id))
    return _rowcount(result) > 0


# --- recovery codes -----------------------------------------------------------------------


async def replace_recovery_codes(session: AsyncSession, *, user_id: str, digests: list[str], now: datetime) -> None:
    await session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    session.add_all([RecoveryCode(user_id=user_id, code_hash=d, created_at=now) for d in digests])
    await session.flush()


async def count_unused_recovery_codes(session: AsyncSession, *, user_id: str) -> int:
    unused = select(func.count()).select_from(RecoveryCode).where(RecoveryCode.used_at.is_(None))
    result = await session.execute(unused.where(RecoveryCode.user_id == user_id))
    return int(result.scalar_one())


async def use_recovery_code(session: AsyncSession, *, user_id: str, code_hash: str, now: datetime) -> bool:
    result = await session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.user_id == user_id, RecoveryCode.code_hash == code_hash, RecoveryCode.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


async def delete_recovery_codes(session: AsyncSession, *, user_id: str) -> None:
    await session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))


# --- the one-time-code second factor ---------------------------------------------------------


async def get_code_factor(session: AsyncSession, *, user_id: str) -> CodeFactor | None:
    result = await session.execute(select(CodeFactor).where(CodeFactor.user_id == user_id))
    return result.scalar_one_or_none()


async def set_code_factor(session: AsyncSession, *, user_id: str, channel: str, now: datetime) -> None:
    await session.execute(delete(CodeFactor).where(CodeFactor.user_id == user_id))
    session.add(CodeFactor(user_id=user_id, channel=channel, created_at=now))
    await session.flush()


async def delete_code_factor(session: AsyncSession, *, user_id: str) -> None:
    await session.execute(delete(CodeFactor).where(CodeFactor.user_id == user_id))


async def delete_all_factors(session: AsyncSession, *, user_id: str) -> None:
    """Every second factor of the user: when an account is claimed by its address's owner."""
    await delete_totp(session, user_id=user_id)
    await delete_recovery_codes(session, user_id=user_id)
    await delete_code_factor(session, user_id=user_id)
