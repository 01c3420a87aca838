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
from authgate.errors import reauthentication_required
from authgate.methods.password import factor as password
from authgate.runtime import Runtime
from authgate.runtime.caches import Principal
from authgate.scope import RequestContext
from authgate.signin.gate import confirm_current_factor, counting
from authgate.storage.models import utcnow


@dataclass(frozen=True)
class Reauthentication:
    """What a request brings to re-authenticate, if anything."""

    current_password: str | None = None
    factor_code: str | None = None


def signed_in_recently(rt: Runtime, principal: Principal) -> bool:
    return principal.session.created_at >= utcnow() - timedelta(seconds=rt.settings.reauth_max_age_seconds)


async def require_recent_sign_in(
    rt: Runtime, principal: Principal, proof: Reauthentication, *, ctx: RequestContext | None = None
) -> None:
    """Pass when the sign-in is recent; else the current password, or a code of a current
    second factor (used up), must come with the request. Wrong ones are counted."""
    if signed_in_recently(rt, principal):
        return
    if proof.current_password:
        async with counting(rt, ctx, subject=account(principal.user_id)):
            await password.confirm(rt, user_id=principal.user_id, password=proof.current_password)
        return
    if proof.factor_code:
        async with counting(rt, ctx, subject=account(principal.user_id)), rt.uow() as tx:
            await confirm_current_factor(rt, tx, user=principal.user, code=proof.factor_code)
        return
    raise reauthentication_required()
