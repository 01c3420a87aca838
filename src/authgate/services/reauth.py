"""Recent sign-in for sensitive changes (enrolling or removing a factor, changing the phone
or the password): a stolen access token alone must not be enough to lock the owner out.

The session's sign-in (`auth_time`: when its first factor was proved) must be within
`AUTHGATE_REAUTH_MAX_AGE_SECONDS`, or the request itself re-authenticates: the current
password, or a code of a current second factor where the endpoint takes one. Otherwise 401
`reauthentication_required`.
"""

from __future__ import annotations

from datetime import timedelta

from authgate.errors import reauthentication_required
from authgate.methods import password
from authgate.services.context import RequestContext
from authgate.services.principals import Principal
from authgate.services.runtime import Runtime
from authgate.services.signin import counting
from authgate.storage.models import utcnow


def signed_in_recently(rt: Runtime, principal: Principal) -> bool:
    return principal.session.created_at >= utcnow() - timedelta(seconds=rt.settings.reauth_max_age_seconds)


async def require_recent_sign_in(
    rt: Runtime, principal: Principal, *, current_password: str | None, ctx: RequestContext | None = None
) -> None:
    if signed_in_recently(rt, principal):
        return
    if not current_password:
        raise reauthentication_required()
    async with counting(rt, ctx):
        await password.confirm(rt, user_id=principal.user_id, password=current_password)
