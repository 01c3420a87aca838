"""Reading and writing second-factor state. Every one-time thing here (a TOTP time step, a
recovery code, an MFA challenge) is consumed by one conditional UPDATE whose rowcount says
who won, so N concurrent uses give exactly one success on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from authgate.storage.models import MfaChallenge, RecoveryCode, TotpCredential


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
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(TotpCredential).values(user_id=user_id, pending_secret=sealed, created_at=now, updated_at=now)
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


# --- MFA challenges (the mfaToken) ----------------------------------------------------------


@dataclass(frozen=True)
class ReservedChallenge:
    id: str
    user_id: str
    amr: str


async def add_challenge(session: AsyncSession, *, row: MfaChallenge) -> MfaChallenge:
    session.add(row)
    await session.flush()
    return row


async def purge_challenges(session: AsyncSession, *, user_id: str, now: datetime) -> None:
    """Drop the user's used or expired challenges, so the table stays small."""
    await session.execute(
        delete(MfaChallenge).where(
            MfaChallenge.user_id == user_id,
            or_(MfaChallenge.used_at.is_not(None), MfaChallenge.expires_at <= now),
        )
    )


async def reserve_attempt(
    session: AsyncSession, *, token_hash: str, now: datetime, max_attempts: int
) -> ReservedChallenge | None:
    """Count one try against a live challenge before its code is checked; None when the
    challenge is unknown, used, expired or out of tries. Counting first keeps the limit
    exact under parallel requests: at most `max_attempts` codes are ever checked."""
    result = await session.execute(
        update(MfaChallenge)
        .where(
            MfaChallenge.token_hash == token_hash,
            MfaChallenge.used_at.is_(None),
            MfaChallenge.expires_at > now,
            MfaChallenge.attempts < max_attempts,
        )
        .values(attempts=MfaChallenge.attempts + 1)
        .returning(MfaChallenge.id, MfaChallenge.user_id, MfaChallenge.amr)
        .execution_options(synchronize_session=False)
    )
    row = result.first()
    return None if row is None else ReservedChallenge(id=row[0], user_id=row[1], amr=row[2])


async def consume_challenge(session: AsyncSession, *, challenge_id: str, now: datetime) -> bool:
    result = await session.execute(
        update(MfaChallenge)
        .where(MfaChallenge.id == challenge_id, MfaChallenge.used_at.is_(None), MfaChallenge.expires_at > now)
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1
