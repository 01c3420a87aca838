"""What every second factor shares: which factors an account has on (`mfaEnabled` follows
them, in the transaction that changes one) and an administrator's reset of them all. Each
factor's own enrolment is in its package (`totp/enrol.py`, `code/enrol.py`)."""

from __future__ import annotations

from dataclasses import dataclass

from authgate.core.parts import Parts
from authgate.methods.recovery.factor import RECOVERY
from authgate.methods.totp.factor import TOTP
from authgate.storage.models import utcnow
from authgate.storage.models.one_time import CODE_MFA, MFA_CHALLENGE
from authgate.storage.repositories import mfa as mfa_repo
from authgate.storage.repositories import one_time as one_time_repo
from authgate.storage.repositories import users as user_repo
from authgate.storage.uow import UnitOfWork

# The authenticator-app pair that /mfa/disable turns off (the code factor has its own switch).
AUTHENTICATOR_FACTORS = {TOTP.name, RECOVERY.name}


async def sync_mfa_flag(tx: UnitOfWork, rt: Parts, *, user_id: str) -> None:
    """Set the user object's `mfaEnabled` from the factors after one was turned on or off.
    The factors are the authority the sign-in gate asks; the flag only reports them."""
    user = await user_repo.get(tx.db, user_id=user_id)
    if user is None:
        return
    enabled = any([await factor.enrolled(tx.db, user) for factor in rt.methods.second if factor.enables_mfa])
    if enabled != user.mfa_enabled:
        await user_repo.set_mfa_enabled(tx.db, user_id=user_id, enabled=enabled, now=utcnow())
    tx.on_commit(lambda: rt.principals.drop_user(user_id))


async def reset_factors(tx: UnitOfWork, rt: Parts, *, user_id: str) -> list[str]:
    """Remove every second factor of the user and void their pending second steps (an admin's
    reset, for someone who lost their device); returns the names of the factors removed.
    Passkeys stay: they are first factors too, removed one by one."""
    user = await user_repo.get(tx.db, user_id=user_id)
    factors = [f for f in rt.methods.second if f.enables_mfa]
    removed = [f.name for f in factors if user is not None and await f.enrolled(tx.db, user)]
    await mfa_repo.delete_all_factors(tx.db, user_id=user_id)
    await one_time_repo.void(tx.db, now=utcnow(), purposes=(MFA_CHALLENGE, CODE_MFA), user_id=user_id)
    await sync_mfa_flag(tx, rt, user_id=user_id)
    return removed


@dataclass(frozen=True)
class FactorState:
    """What the account pages show of a user's second factors."""

    authenticator: bool  # the authenticator app (TOTP) is on
    recovery_codes_left: int
    code_channel: str | None  # `email` or `sms` while the one-time-code factor is on


async def factor_state(rt: Parts, *, user_id: str) -> FactorState:
    """The user's second factors as they stand (a read; nothing changes)."""
    async with rt.read() as db:
        totp_row = await mfa_repo.get_totp(db, user_id=user_id)
        left = await mfa_repo.count_unused_recovery_codes(db, user_id=user_id)
        code = await mfa_repo.get_code_factor(db, user_id=user_id)
    return FactorState(
        authenticator=totp_row is not None and totp_row.secret is not None,
        recovery_codes_left=left,
        code_channel=code.channel if code is not None else None,
    )
