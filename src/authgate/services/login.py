"""Signing in with a password (or a PIN: the same credential under seed 003's name)."""

from __future__ import annotations

from dataclasses import dataclass

from authgate.errors import account_disabled, email_not_verified, invalid_credentials, invalid_mfa_code, mfa_required
from authgate.observability.logging import get_logger
from authgate.security.identifiers import email_key, username_key
from authgate.services import mfa_tokens
from authgate.services.context import RequestContext
from authgate.services.factors import SecondFactor, enabled_factors
from authgate.services.runtime import Runtime
from authgate.services.sessions import LoginResult, start_session
from authgate.storage.models import User
from authgate.storage.repositories import users as user_repo

log = get_logger("authgate.login")


@dataclass(frozen=True)
class PasswordLogin:
    """Exactly one of `email` (already normalised) or `username` is set."""

    password: str
    email: str | None = None
    username: str | None = None
    mfa_code: str | None = None


async def login_with_password(rt: Runtime, attempt: PasswordLogin, ctx: RequestContext) -> LoginResult:
    async with rt.autocommit() as db:
        if attempt.email is not None:
            user = await user_repo.get_by_email(db, email_key=email_key(attempt.email))
        else:
            user = await user_repo.get_by_username(db, username_key=username_key(attempt.username or ""))
    # Unknown users are checked against a dummy hash: same path, same time, same answer.
    ok = await rt.hasher.verify(attempt.password, user.password_hash if user else None)
    if not ok or user is None:
        await record_failure(rt, user=user, outcome="invalid_credentials")
        raise invalid_credentials()
    return await complete_sign_in(rt, user=user, amr=["pwd"], ctx=ctx, mfa_code=attempt.mfa_code)


async def record_failure(rt: Runtime, *, user: User | None, outcome: str) -> None:
    """Every failed sign-in step ends here: a wrong password, and a wrong second-factor code
    wherever it is entered (login's `mfaCode`, `/mfa/verify`, confirming an MFA change). It is
    the one place account lockout and brute-force counting hook onto."""
    rt.metrics.logins.labels(outcome).inc()
    log.info("sign_in_failed", outcome=outcome, user_id=user.id if user else None)


async def complete_sign_in(
    rt: Runtime,
    *,
    user: User,
    amr: list[str],
    ctx: RequestContext,
    mfa_code: str | None = None,
    challenge: mfa_tokens.Challenge | None = None,
) -> LoginResult:
    """The one gate every sign-in path passes after its first factor succeeded (password,
    magic link, one-time code, OAuth): disabled accounts, email verification and the second
    factor are enforced here, so no path can skip them.

    With a second factor enabled, `mfa_code` is checked against each factor in turn; without
    one, the sign-in stops with `mfa_required` and an `mfaToken` that `/mfa/verify` redeems
    (passing the reserved `challenge` back here, which is then consumed exactly once)."""
    if user.disabled:
        rt.metrics.logins.labels("disabled").inc()
        raise account_disabled()
    if rt.settings.require_email_verification and not user.email_verified:
        rt.metrics.logins.labels("email_not_verified").inc()
        raise email_not_verified()
    factors = await enabled_factors(rt, user)
    if factors:
        if not mfa_code and challenge is None:
            token = await mfa_tokens.issue(rt, user=user, amr=amr)
            rt.metrics.logins.labels("mfa_required").inc()
            raise mfa_required(token, [f.name for f in factors])
        factor = await check_second_factor(rt, user=user, factors=factors, code=mfa_code or "")
        amr = [*amr, factor.amr]
    if challenge is not None:
        await mfa_tokens.consume(rt, challenge)
    rt.metrics.logins.labels("success").inc()
    return await start_session(rt, user=user, amr=amr, ctx=ctx)


async def check_second_factor(
    rt: Runtime, *, user: User, factors: list[SecondFactor], code: str, field_name: str | None = None
) -> SecondFactor:
    """The factor that accepts (and consumes) `code`; otherwise the failure is recorded and
    `invalid_mfa_code` raised (401, or 400 naming `field_name` for a signed-in user's change)."""
    for factor in factors:
        if code and await factor.verify(rt, user, code):
            return factor
    await record_failure(rt, user=user, outcome="invalid_mfa_code")
    raise invalid_mfa_code(field_name=field_name)
