"""Turning the authenticator app on and off for a signed-in user: a secret issued and kept
sealed until a code proves the app holds it, ten recovery codes with it, and removal proved by
a current code. Each change is one unit of work."""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass

from authgate.abuse.lockout import account
from authgate.core.parts import Parts
from authgate.core.principal import Principal
from authgate.errors import AuthError, ErrorCode, FieldError, WrongSecret, invalid_mfa_code, problem, validation_failed
from authgate.methods.second_factors import AUTHENTICATOR_FACTORS, sync_mfa_flag
from authgate.methods.totp.factor import TOTP
from authgate.scope import RequestContext
from authgate.security import recovery_codes, totp
from authgate.signin import gate
from authgate.signin.reauth import Reauthentication, require_recent_sign_in
from authgate.storage.models import User, utcnow
from authgate.storage.repositories import mfa as mfa_repo


@dataclass(frozen=True)
class TotpSetup:
    secret: str
    otpauth_url: str
    qr_code_url: str


def _already_enabled() -> AuthError:
    return problem(
        ErrorCode.CONFLICT,
        "Conflict",
        "An authenticator app is already enabled; disable it before setting up a new one.",
    )


async def setup_totp(rt: Parts, *, principal: Principal, reauth: Reauthentication, ctx: RequestContext) -> TotpSetup:
    """Issue a new secret, kept server-side (sealed) until `enable_totp` proves the app has it.
    Calling it again replaces the pending secret; once enabled, it refuses (409), so the
    secret is never shown again."""
    await require_recent_sign_in(rt, principal, reauth, ctx=ctx)
    user = principal.user
    secret = totp.new_secret()
    async with rt.uow() as tx:
        stored = await mfa_repo.put_pending_secret(
            tx.db, user_id=user.id, sealed=rt.box.seal(secret, context=user.id), now=utcnow()
        )
    if not stored:
        raise _already_enabled()
    url = totp.otpauth_url(secret, account=user.email, issuer=rt.settings.mfa_issuer)
    return TotpSetup(secret=secret, otpauth_url=url, qr_code_url=totp.qr_data_url(url))


async def enable_totp(
    rt: Parts, *, principal: Principal, secret: str | None, code: str, reauth: Reauthentication, ctx: RequestContext
) -> list[str]:
    """Turn TOTP on if `code` is right for the secret setup issued to this user (which the
    server holds: `secret` may be left out, and when given must be that one); returns ten
    fresh recovery codes (shown this once, stored as digests)."""
    await require_recent_sign_in(rt, principal, reauth, ctx=ctx)
    user = principal.user
    async with rt.read() as db:
        row = await mfa_repo.get_totp(db, user_id=user.id)
    if row is not None and row.secret is not None:
        raise _already_enabled()
    if row is None or row.pending_secret is None:
        raise validation_failed(FieldError("secret", "Start with /mfa/setup: no secret was issued to this account."))
    try:
        pending = rt.box.open(row.pending_secret, context=user.id)
    except ValueError:  # sealed under an earlier AUTHGATE_ENCRYPTION_KEY: set up again
        raise validation_failed(FieldError("secret", "Start again with /mfa/setup.")) from None
    if secret is not None and not hmac.compare_digest(totp.normalize_secret(secret).encode(), pending.encode()):
        raise validation_failed(FieldError("secret", "This is not the secret /mfa/setup issued to this account."))
    async with gate.counting(rt, ctx, subject=account(user.id)):
        step = totp.matching_step(pending, code, now=time.time())
        if step is None:
            raise WrongSecret(invalid_mfa_code(), user_id=user.id, method=TOTP.name)

    codes = recovery_codes.new_codes()
    now = utcnow()
    async with rt.uow() as tx:
        if not await mfa_repo.activate_totp(tx.db, user_id=user.id, pending=row.pending_secret, step=step, now=now):
            # A concurrent enable won, or setup issued a newer secret in between.
            raise _already_enabled()
        digests = [recovery_codes.code_digest(user.id, c) for c in codes]
        await mfa_repo.replace_recovery_codes(tx.db, user_id=user.id, digests=digests, now=now)
        await sync_mfa_flag(tx, rt, user_id=user.id)
        tx.audit("mfa.enabled", user_id=user.id, factor=TOTP.name)
        tx.emit("mfa.enabled", userId=user.id, factor=TOTP.name)
    return codes


async def disable_totp(rt: Parts, *, user: User, code: str, ctx: RequestContext) -> None:
    """Turn the authenticator app off, given a current TOTP code or an unused recovery code
    (that code is the re-authentication); the secret and every recovery code go, in one
    transaction with the check."""
    async with rt.read() as db:
        enabled = await TOTP.enrolled(db, user)
    if enabled is None:
        raise problem(ErrorCode.CONFLICT, "Conflict", "No authenticator app is enabled.")
    async with gate.counting(rt, ctx, subject=account(user.id)):
        step = await gate.second_step(rt, user_id=user.id, code=code, only=AUTHENTICATOR_FACTORS)
        async with rt.uow() as tx:
            await gate.confirm_current_factor(rt, tx, user=user, step=step, only=AUTHENTICATOR_FACTORS)
            await mfa_repo.delete_totp(tx.db, user_id=user.id)
            await mfa_repo.delete_recovery_codes(tx.db, user_id=user.id)
            # Another factor (SMS/email codes) may still be on: the flag follows the factors.
            await sync_mfa_flag(tx, rt, user_id=user.id)
            tx.audit("mfa.disabled", user_id=user.id, factor=TOTP.name)
            tx.emit("mfa.disabled", userId=user.id, factor=TOTP.name)
