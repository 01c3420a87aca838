"""The authenticator app (TOTP, RFC 6238) as a second factor."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from authgate.core.factors import AUTHENTICATOR, Attempt, FactorParts, Proof
from authgate.observability.logging import get_logger
from authgate.security import totp
from authgate.storage.models import utcnow
from authgate.storage.repositories import mfa as mfa_repo

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from authgate.storage.models import User
    from authgate.storage.uow import UnitOfWork

log = get_logger("authgate.mfa")


class TotpMethod:
    name = "totp"
    first_factor = False
    second_factor = True
    enables_mfa = True
    proof = Proof(method="totp", amr="otp", channel=AUTHENTICATOR)  # RFC 8176: one-time password

    async def enrolled(self, db: AsyncSession, user: User) -> Proof | None:
        row = await mfa_repo.get_totp(db, user_id=user.id)
        return self.proof if row is not None and row.secret is not None else None

    async def charge(self, parts: FactorParts, *, user_id: str, code: str) -> str | None:
        return None  # no tries to spend: replays are refused by step, guesses by the lockout

    async def verify(self, parts: FactorParts, tx: UnitOfWork, user: User, attempt: Attempt) -> Proof | None:
        """Right code within ±1 step, and a step later than the last accepted one; the step
        is then recorded by a conditional UPDATE, so of concurrent replays only one wins."""
        row = await mfa_repo.get_totp(tx.db, user_id=user.id)
        if attempt.code is None or row is None or row.secret is None:
            return None
        try:
            secret = parts.box.open(row.secret, context=user.id)
        except ValueError:
            # AUTHGATE_ENCRYPTION_KEY changed: fail closed (recovery codes still work), loudly.
            log.error("totp_secret_does_not_open", user_id=user.id)
            return None
        step = totp.matching_step(secret, attempt.code, now=time.time())
        if step is None or (row.last_step is not None and step <= row.last_step):
            return None
        accepted = await mfa_repo.accept_step(tx.db, user_id=user.id, step=step, now=utcnow())
        return self.proof if accepted else None


TOTP = TotpMethod()
