"""The authenticator-app factor (TOTP, RFC 6238) as a second factor of the registry."""

from __future__ import annotations

import time

from authgate.observability.logging import get_logger
from authgate.security import totp
from authgate.services.factors import SecondFactor, register_factor
from authgate.services.runtime import Runtime
from authgate.storage.models import User, utcnow
from authgate.storage.repositories import mfa as mfa_repo

log = get_logger("authgate.mfa")


class TotpFactor:
    name = "totp"
    amr = "otp"  # RFC 8176: one-time password

    async def enabled_for(self, rt: Runtime, user: User) -> bool:
        async with rt.autocommit() as db:
            row = await mfa_repo.get_totp(db, user_id=user.id)
        return row is not None and row.secret is not None

    async def verify(self, rt: Runtime, user: User, code: str) -> bool:
        """Right code within ±1 step, and a step later than the last accepted one; the step
        is then recorded by a conditional UPDATE, so of concurrent replays only one wins."""
        async with rt.autocommit() as db:
            row = await mfa_repo.get_totp(db, user_id=user.id)
        if row is None or row.secret is None:
            return False
        try:
            secret = rt.box.open(row.secret, context=user.id)
        except ValueError:
            # AUTHGATE_ENCRYPTION_KEY changed: fail closed (recovery codes still work), loudly.
            log.error("totp_secret_does_not_open", user_id=user.id)
            return False
        step = totp.matching_step(secret, code, now=time.time())
        if step is None or (row.last_step is not None and step <= row.last_step):
            return False
        async with rt.db.begin() as db:
            return await mfa_repo.accept_step(db, user_id=user.id, step=step, now=utcnow())


TOTP: SecondFactor = register_factor(TotpFactor())
