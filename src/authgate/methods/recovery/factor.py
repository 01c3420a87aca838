"""Recovery codes as a second factor: ten single-use codes issued when TOTP is enabled."""

from __future__ import annotations

from typing import TYPE_CHECKING

from authgate.core.factors import RECOVERY as RECOVERY_CHANNEL
from authgate.core.factors import Attempt, FactorParts, Proof
from authgate.security import recovery_codes
from authgate.storage.models import utcnow
from authgate.storage.repositories import mfa as mfa_repo

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from authgate.storage.models import User
    from authgate.storage.uow import UnitOfWork


class RecoveryMethod:
    name = "recovery"
    first_factor = False
    second_factor = True
    enables_mfa = True
    # RFC 8176 has no value for lookup secrets: "rec" keeps a sign-in by recovery code
    # distinguishable from one by TOTP ("otp"), e.g. to prompt a new setup.
    proof = Proof(method="recovery", amr="rec", channel=RECOVERY_CHANNEL)

    async def enrolled(self, db: AsyncSession, user: User) -> Proof | None:
        return self.proof if await mfa_repo.count_unused_recovery_codes(db, user_id=user.id) > 0 else None

    async def charge(self, parts: FactorParts, *, user_id: str, code: str) -> str | None:
        return None  # each code works once: using it up is the only try

    async def verify(self, parts: FactorParts, tx: UnitOfWork, user: User, attempt: Attempt) -> Proof | None:
        """Use the code up with one conditional UPDATE: it works once, even under a race."""
        if attempt.code is None or not recovery_codes.looks_like_code(attempt.code):
            return None
        code_hash = recovery_codes.code_digest(user.id, attempt.code)
        used = await mfa_repo.use_recovery_code(tx.db, user_id=user.id, code_hash=code_hash, now=utcnow())
        return self.proof if used else None


RECOVERY = RecoveryMethod()
