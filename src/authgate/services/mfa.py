"""Multi-factor authentication use cases: set up, enable and disable the authenticator app
(with its recovery codes), and finish a sign-in that stopped at `mfa_required`.

The factors themselves are registry modules (`factors_totp`, `factors_recovery`); importing
them here registers them, and the HTTP layer imports this module.
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass

from authgate.errors import AuthError, ErrorCode, FieldError, invalid_mfa_code, invalid_token, validation_failed
from authgate.security import recovery_codes, totp
from authgate.services import factors_recovery, factors_totp, mfa_tokens
from authgate.services.context import RequestContext
from authgate.services.factors import enabled_factors, sync_mfa_flag
from authgate.services.login import check_second_factor, complete_sign_in
from authgate.services.runtime import Runtime
from authgate.services.sessions import LoginResult
from authgate.storage.models import User, utcnow
from authgate.storage.repositories import mfa as mfa_repo
from authgate.storage.repositories import users as user_repo

# The authenticator-app pair that /mfa/disable turns off (other factors have their own switch).
AUTHENTICATOR_FACTORS = {factors_totp.TOTP.name, factors_recovery.RECOVERY.name}


@dataclass(frozen=True)
class TotpSetup:
    secret: str
    otpauth_url: str
    qr_code_url: str


def _already_enabled() -> AuthError:
    return AuthError(
        ErrorCode.CONFLICT,
        409,
        "Conflict",
        "An authenticator app is already enabled; disable it before setting up a new one.",
    )


async def setup_totp(rt: Runtime, *, user: User) -> TotpSetup:
    """Issue a new secret, kept server-side (sealed) until `enable_totp` proves the app has it.
    Calling it again replaces the pending secret; once enabled, it refuses (409), so the
    secret is never shown again."""
    secret = totp.new_secret()
    async with rt.db.begin() as db:
        stored = await mfa_repo.put_pending_secret(
            db, user_id=user.id, sealed=rt.box.seal(secret, context=user.id), now=utcnow()
        )
    if not stored:
        raise _already_enabled()
    url = totp.otpauth_url(secret, account=user.email, issuer=rt.settings.mfa_issuer)
    return TotpSetup(secret=secret, otpauth_url=url, qr_code_url=totp.qr_data_url(url))


async def enable_totp(rt: Runtime, *, user: User, secret: str, code: str) -> list[str]:
    """Turn TOTP on if `secret` is the one setup issued to this user and `code` is right for
    it; returns ten fresh recovery codes (shown this once, stored as digests)."""
    async with rt.autocommit() as db:
        row = await mfa_repo.get_totp(db, user_id=user.id)
    if row is not None and row.secret is not None:
        raise _already_enabled()
    if row is None or row.pending_secret is None:
        raise validation_failed(FieldError("secret", "Start with /mfa/setup: no secret was issued to this account."))
    try:
        pending = rt.box.open(row.pending_secret, context=user.id)
    except ValueError:  # sealed under an earlier AUTHGATE_ENCRYPTION_KEY: set up again
        raise validation_failed(FieldError("secret", "Start again with /mfa/setup.")) from None
    if not hmac.compare_digest(totp.normalize_secret(secret).encode(), pending.encode()):
        raise validation_failed(FieldError("secret", "This is not the secret /mfa/setup issued to this account."))
    step = totp.matching_step(pending, code, now=time.time())
    if step is None:
        raise invalid_mfa_code(field_name="verificationCode")

    codes = recovery_codes.new_codes()
    now = utcnow()
    async with rt.db.begin() as db:
        if not await mfa_repo.activate_totp(db, user_id=user.id, pending=row.pending_secret, step=step, now=now):
            # A concurrent enable won, or setup issued a newer secret in between.
            raise _already_enabled()
        digests = [recovery_codes.code_digest(user.id, c) for c in codes]
        await mfa_repo.replace_recovery_codes(db, user_id=user.id, digests=digests, now=now)
    await sync_mfa_flag(rt, user_id=user.id)
    rt.principals.drop_user(user.id)
    return codes


async def disable_totp(rt: Runtime, *, user: User, code: str) -> None:
    """Turn the authenticator app off, given a current TOTP code or an unused recovery code;
    the secret and every recovery code are deleted."""
    factors = [f for f in await enabled_factors(rt, user) if f.name in AUTHENTICATOR_FACTORS]
    if all(f.name != factors_totp.TOTP.name for f in factors):
        raise AuthError(ErrorCode.CONFLICT, 409, "Conflict", "No authenticator app is enabled.")
    await check_second_factor(rt, user=user, factors=factors, code=code, field_name="verificationCode")
    async with rt.db.begin() as db:
        await mfa_repo.delete_totp(db, user_id=user.id)
        await mfa_repo.delete_recovery_codes(db, user_id=user.id)
    # Another factor (SMS/email codes) may still be on: the user's flag follows the registry.
    await sync_mfa_flag(rt, user_id=user.id)
    rt.principals.drop_user(user.id)


async def verify_challenge(rt: Runtime, *, mfa_token: str, code: str, ctx: RequestContext) -> LoginResult:
    """Finish a sign-in that answered `mfa_required`: one try is counted against the token,
    then the gate checks the code and consumes the token."""
    challenge = await mfa_tokens.reserve(rt, mfa_token)
    async with rt.autocommit() as db:
        user = await user_repo.get(db, user_id=challenge.user_id)
    if user is None:
        raise invalid_token()
    return await complete_sign_in(rt, user=user, amr=challenge.amr, ctx=ctx, mfa_code=code, challenge=challenge)
