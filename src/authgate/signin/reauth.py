"""Recent sign-in for sensitive changes (enrolling or removing a factor, changing the phone
or the password): a stolen access token alone must not be enough to lock the owner out.

The session's sign-in (`auth_time`: when its first factor was proved) must be within
`AUTHGATE_REAUTH_MAX_AGE_SECONDS`, or the request itself re-authenticates: the current
password (`currentPassword`), or a code of a current second factor (`mfaCode`). Otherwise 401
`reauthentication_required`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from authgate.abuse.lockout import account
from authgate.core.parts import Parts
from authgate.core.principal import Principal
from authgate.errors import WrongSecret, invalid_credentials, reauthentication_required
from authgate.scope import RequestContext
from authgate.signin.gate import confirm_current_factor, counting, second_step
from authgate.storage.models import utcnow
from authgate.storage.repositories import users as user_repo


@dataclass(frozen=True)
class Reauthentication:
    """What a request brings to re-authenticate, if anything."""

    current_password: str | None = None
    factor_code: str | None = None


def signed_in_recently(rt: Parts, principal: Principal) -> bool:
    return principal.session.created_at >= utcnow() - timedelta(seconds=rt.settings.reauth_max_age_seconds)


def passed_second_factor(principal: Principal) -> bool:
    """Whether the session's sign-in passed a second factor (or a proof that counts as both)."""
    return len(principal.session.amr.split(",")) > 1


async def require_recent_sign_in(
    rt: Parts,
    principal: Principal,
    proof: Reauthentication,
    *,
    ctx: RequestContext | None = None,
    with_second_factor: bool = False,
) -> None:
    """Pass when the sign-in is recent; else the current password, or a code of a current
    second factor (used up), must come with the request. Wrong ones are counted.
    `with_second_factor` (adding a way in): an account with a second factor also needs a
    session that passed it, or a code of it in the request."""
    needs_factor = with_second_factor and principal.user.mfa_enabled and not passed_second_factor(principal)
    if signed_in_recently(rt, principal) and not needs_factor:
        return
    if proof.current_password and not needs_factor:
        async with counting(rt, ctx, subject=account(principal.user_id)):
            await confirm_password(rt, user_id=principal.user_id, password=proof.current_password)
        return
    if proof.factor_code:
        async with counting(rt, ctx, subject=account(principal.user_id)):
            step = await second_step(rt, user_id=principal.user_id, code=proof.factor_code)
            async with rt.uow() as tx:
                await confirm_current_factor(rt, tx, user=principal.user, step=step)
        return
    if needs_factor:
        raise reauthentication_required(
            "This account has a second factor: sign in with it, or send its code as mfaCode."
        )
    raise reauthentication_required()


async def confirm_password(rt: Parts, *, user_id: str, password: str) -> None:
    """A signed-in user re-enters the current password; a wrong one is 401
    `invalid_credentials`, as at sign-in. Call it inside `counting`."""
    async with rt.read() as db:
        user = await user_repo.get(db, user_id=user_id)
    if not await rt.hasher.verify(password, user):
        error = invalid_credentials("The current password is not correct.")
        raise WrongSecret(error, user_id=user_id, method="password")
