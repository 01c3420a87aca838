"""Signing in with a password (or a PIN: the same credential under seed 003's name)."""

from __future__ import annotations

from dataclasses import dataclass

from authgate.errors import account_disabled, email_not_verified, invalid_credentials
from authgate.security.identifiers import email_key, username_key
from authgate.services.context import RequestContext
from authgate.services.runtime import Runtime
from authgate.services.sessions import LoginResult, start_session
from authgate.storage.models import User
from authgate.storage.repositories import users as user_repo


@dataclass(frozen=True)
class PasswordLogin:
    """Exactly one of `email` (already normalised) or `username` is set."""

    password: str
    email: str | None = None
    username: str | None = None


async def login_with_password(rt: Runtime, attempt: PasswordLogin, ctx: RequestContext) -> LoginResult:
    async with rt.read() as db:
        if attempt.email is not None:
            user = await user_repo.get_by_email(db, email_key=email_key(attempt.email))
        else:
            user = await user_repo.get_by_username(db, username_key=username_key(attempt.username or ""))
    # Unknown users are checked against a dummy hash: same path, same time, same answer.
    ok = await rt.hasher.verify(attempt.password, user.password_hash if user else None)
    if not ok or user is None:
        rt.metrics.logins.labels("invalid_credentials").inc()
        raise invalid_credentials()
    return await complete_sign_in(rt, user=user, amr=["pwd"], ctx=ctx)


async def complete_sign_in(rt: Runtime, *, user: User, amr: list[str], ctx: RequestContext) -> LoginResult:
    """The one gate every sign-in path passes after its first factor succeeded (password,
    magic link, one-time code, OAuth): disabled accounts, email verification and the second
    factor are enforced here, so no path can skip them."""
    if user.disabled:
        rt.metrics.logins.labels("disabled").inc()
        raise account_disabled()
    if rt.settings.require_email_verification and not user.email_verified:
        rt.metrics.logins.labels("email_not_verified").inc()
        raise email_not_verified()
    rt.metrics.logins.labels("success").inc()
    return await start_session(rt, user=user, amr=amr, ctx=ctx)
