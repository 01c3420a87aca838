"""Recovery codes as a second factor: ten single-use codes issued when TOTP is enabled."""

from __future__ import annotations

from authgate.security import recovery_codes
from authgate.services.factors import SecondFactor, register_factor
from authgate.services.runtime import Runtime
from authgate.storage.models import User, utcnow
from authgate.storage.repositories import mfa as mfa_repo


class RecoveryCodeFactor:
    name = "recovery"
    # Not in RFC 8176's registry, which has no value for lookup secrets: "rec" keeps a sign-in
    # by recovery code distinguishable from one by TOTP ("otp"), e.g. to prompt a new setup.
    amr = "rec"

    async def enabled_for(self, rt: Runtime, user: User) -> bool:
        async with rt.autocommit() as db:
            return await mfa_repo.count_unused_recovery_codes(db, user_id=user.id) > 0

    async def verify(self, rt: Runtime, user: User, code: str) -> bool:
        """Consume the code with one conditional UPDATE: it works once, even under a race."""
        if not recovery_codes.looks_like_code(code):
            return False
        async with rt.db.begin() as db:
            return await mfa_repo.use_recovery_code(
                db, user_id=user.id, code_hash=recovery_codes.code_digest(user.id, code), now=utcnow()
            )


RECOVERY: SecondFactor = register_factor(RecoveryCodeFactor())
