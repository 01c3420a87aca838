"""Renewing the recovery codes of a signed-in user who has used or lost some: ten new codes
replace every earlier one, given a current TOTP code or an unused recovery code (that code is
the re-authentication, as for turning the app off)."""

from __future__ import annotations

from authgate.abuse.lockout import account
from authgate.core.parts import Parts
from authgate.errors import ErrorCode, problem
from authgate.methods.second_factors import AUTHENTICATOR_FACTORS
from authgate.methods.totp.factor import TOTP
from authgate.scope import RequestContext
from authgate.security import recovery_codes
from authgate.signin import gate
from authgate.storage.models import User, utcnow
from authgate.storage.repositories import mfa as mfa_repo


async def renew_recovery_codes(rt: Parts, *, user: User, code: str, ctx: RequestContext) -> list[str]:
    """Ten fresh recovery codes (shown this once, stored as digests); the earlier ones no
    longer work. The code is checked, used up (a recovery code, or the TOTP step) and the
    codes replaced in one transaction, so of concurrent renewals with one code exactly one
    succeeds. 409 `conflict` without an authenticator app; a wrong code is 401
    `invalid_mfa_code`, counted toward the account's lockout."""
    async with rt.read() as db:
        enabled = await TOTP.enrolled(db, user)
    if enabled is None:
        raise problem(ErrorCode.CONFLICT, "Conflict", "No authenticator app is enabled.")
    codes = recovery_codes.new_codes()
    digests = [recovery_codes.code_digest(user.id, c) for c in codes]
    async with gate.counting(rt, ctx, subject=account(user.id)):
        step = await gate.second_step(rt, user_id=user.id, code=code, only=AUTHENTICATOR_FACTORS)
        async with rt.uow() as tx:
            await gate.confirm_current_factor(rt, tx, user=user, step=step, only=AUTHENTICATOR_FACTORS)
            await mfa_repo.replace_recovery_codes(tx.db, user_id=user.id, digests=digests, now=utcnow())
            tx.audit("mfa.recovery_codes_renewed", user_id=user.id)
    return codes
