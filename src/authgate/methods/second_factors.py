"""Second factors of a signed-in user: set up, enable and disable the authenticator app (with
its recovery codes), enrol and remove the one-time-code factor; and the second step of a
sign-in that answered `mfa_required`.

Each change is one unit of work, and keeps the user's `mfaEnabled` in step with the
factors (`sync_mfa_flag`), in the same transaction.
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass

from authgate.abuse.lockout import account
from authgate.delivery.base import EMAIL
from authgate.errors import (
    AuthError,
    ErrorCode,
    FieldError,
    WrongSecret,
    invalid_mfa_code,
    invalid_token,
    validation_failed,
)
from authgate.methods.code.factor import CODE
from authgate.methods.code.flows import MFA, CodeCheck, invalid_code, own_destination, redeem, stored_address
from authgate.methods.recovery.factor import RECOVERY
from authgate.methods.totp.factor import TOTP
from authgate.runtime import Runtime
from authgate.runtime.caches import Principal
from authgate.scope import RequestContext
from authgate.security import recovery_codes, totp
from authgate.signin import gate as signin
from authgate.signin.reauth import Reauthentication, require_recent_sign_in
from authgate.signin.sessions import LoginResult
from authgate.storage.models import User, utcnow
from authgate.storage.models.one_time import CODE_MFA, MFA_CHALLENGE
from authgate.storage.repositories import mfa as mfa_repo
from authgate.storage.repositories import one_time as one_time_repo
from authgate.storage.repositories import users as user_repo
from authgate.storage.uow import UnitOfWork

# The authenticator-app pair that /mfa/disable turns off (the code factor has its own switch).
AUTHENTICATOR_FACTORS = {TOTP.name, RECOVERY.name}


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


async def sync_mfa_flag(tx: UnitOfWork, rt: Runtime, *, user_id: str) -> None:
    """Set the user object's `mfaEnabled` from the factors after one was turned on or off.
    The factors are the authority the sign-in gate asks; the flag only reports them."""
    user = await user_repo.get(tx.db, user_id=user_id)
    if user is None:
        return
    enabled = any([await factor.enrolled(tx.db, user) for factor in rt.methods.second])
    if enabled != user.mfa_enabled:
        await user_repo.set_mfa_enabled(tx.db, user_id=user_id, enabled=enabled, now=utcnow())
    tx.on_commit(lambda: rt.principals.drop_user(user_id))


async def setup_totp(rt: Runtime, *, principal: Principal, reauth: Reauthentication, ctx: RequestContext) -> TotpSetup:
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
    rt: Runtime, *, principal: Principal, secret: str | None, code: str, reauth: Reauthentication, ctx: RequestContext
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
    async with signin.counting(rt, ctx, subject=account(user.id)):
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


async def disable_totp(rt: Runtime, *, user: User, code: str, ctx: RequestContext) -> None:
    """Turn the authenticator app off, given a current TOTP code or an unused recovery code
    (that code is the re-authentication); the secret and every recovery code go, in one
    transaction with the check."""
    async with rt.read() as db:
        enabled = await TOTP.enrolled(db, user)
    if enabled is None:
        raise AuthError(ErrorCode.CONFLICT, 409, "Conflict", "No authenticator app is enabled.")
    async with signin.counting(rt, ctx, subject=account(user.id)), rt.uow() as tx:
        await signin.confirm_current_factor(rt, tx, user=user, code=code, only=AUTHENTICATOR_FACTORS)
        await mfa_repo.delete_totp(tx.db, user_id=user.id)
        await mfa_repo.delete_recovery_codes(tx.db, user_id=user.id)
        # Another factor (SMS/email codes) may still be on: the flag follows the factors.
        await sync_mfa_flag(tx, rt, user_id=user.id)
        tx.audit("mfa.disabled", user_id=user.id, factor=TOTP.name)
        tx.emit("mfa.disabled", userId=user.id, factor=TOTP.name)


async def verify_challenge(
    rt: Runtime, *, mfa_token: str, code: str, method: str | None, ctx: RequestContext
) -> LoginResult:
    """Finish a sign-in that answered `mfa_required`: one try is charged to the token, then
    the gate checks the code (against the factors independent of the first one) and uses the
    token up, in the transaction that starts the session."""
    challenge = await signin.charge_challenge(rt, mfa_token)
    async with rt.read() as db:
        user = await user_repo.get(db, user_id=challenge.user_id)
    if user is None:
        raise invalid_token()
    step = signin.SecondStep(code=code, method=method, challenge_id=challenge.id)
    async with signin.counting(rt, ctx, subject=account(user.id)), rt.uow() as tx:
        outcome = await signin.complete(tx, rt, user=user, proofs=challenge.proofs, ctx=ctx, second=step)
    return await signin.finish(rt, outcome)


async def enable_code_factor(
    rt: Runtime, *, principal: Principal, check: CodeCheck, reauth: Reauthentication, ctx: RequestContext
) -> str:
    """Turn the one-time-code second factor on for `check.channel`, proved by a code sent
    there with purpose "mfa" (which also verifies that phone or address)."""
    await require_recent_sign_in(rt, principal, reauth, ctx=ctx)
    caller = principal.user
    destination = own_destination(check.channel, caller, check.destination)
    address = stored_address(check.channel, destination)
    async with signin.counting(rt, ctx, subject=account(caller.id)):
        right = await redeem(rt, purpose=MFA, check=check, address=address, user_id=caller.id)
    now = utcnow()
    async with rt.uow() as tx:
        if not await one_time_repo.consume(tx.db, secret_id=right.secret_id, now=now):
            raise invalid_code(MFA)
        await mfa_repo.set_code_factor(tx.db, user_id=caller.id, channel=check.channel, now=now)
        if check.channel == EMAIL:
            await user_repo.mark_email_verified(tx.db, user_id=caller.id, email_key=address, now=now)
        else:
            await user_repo.mark_phone_verified(tx.db, user_id=caller.id, phone=address, now=now)
        await sync_mfa_flag(tx, rt, user_id=caller.id)
        tx.audit("mfa.enabled", user_id=caller.id, factor=CODE.name, channel=check.channel)
        tx.emit("mfa.enabled", userId=caller.id, factor=CODE.name, channel=check.channel)
    return check.channel


async def remove_code_factor(rt: Runtime, *, user: User, code: str, ctx: RequestContext) -> None:
    """Turn the code second factor off; the code may come from any second factor that is on
    (it is the re-authentication), checked in the transaction that removes the factor."""
    async with rt.read() as db:
        factor = await mfa_repo.get_code_factor(db, user_id=user.id)
    if factor is None:
        raise validation_failed(FieldError("verificationCode", "The one-time-code second factor is not on."))
    async with signin.counting(rt, ctx, subject=account(user.id)), rt.uow() as tx:
        await signin.confirm_current_factor(rt, tx, user=user, code=code)
        await mfa_repo.delete_code_factor(tx.db, user_id=user.id)
        await sync_mfa_flag(tx, rt, user_id=user.id)
        tx.audit("mfa.disabled", user_id=user.id, factor=CODE.name)
        tx.emit("mfa.disabled", userId=user.id, factor=CODE.name)


async def reset_factors(tx: UnitOfWork, rt: Runtime, *, user_id: str) -> list[str]:
    """Remove every second factor of the user and void their pending second steps (an admin's
    reset, for someone who lost their device); returns the names of the factors removed."""
    user = await user_repo.get(tx.db, user_id=user_id)
    removed = [f.name for f in rt.methods.second if user is not None and await f.enrolled(tx.db, user)]
    await mfa_repo.delete_all_factors(tx.db, user_id=user_id)
    await one_time_repo.void(tx.db, now=utcnow(), purposes=(MFA_CHALLENGE, CODE_MFA), user_id=user_id)
    await sync_mfa_flag(tx, rt, user_id=user_id)
    return removed
