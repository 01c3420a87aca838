"""What the gate asks of passkeys. As a second factor a passkey does not switch MFA on; when
another factor has, any of the account's passkeys can finish the second step. Its assertion is
checked before the sign-in's transaction (`signin.check`); `verify` records it there."""

from __future__ import annotations

from typing import TYPE_CHECKING

from authgate.core.factors import PASSKEY, Attempt, FactorParts, Proof
from authgate.storage.models import utcnow
from authgate.storage.repositories import passkeys as passkey_repo

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from authgate.storage.models import User
    from authgate.storage.uow import UnitOfWork


class PasskeyMethod:
    name = "passkey"
    first_factor = True
    second_factor = True
    enables_mfa = False

    def proof(self, *, backup_eligible: bool, multi_factor: bool = False) -> Proof:
        """RFC 8176: `hwk` for a key bound to its device, `swk` for a synced (backup-eligible) one."""
        amr = "swk" if backup_eligible else "hwk"
        return Proof(method=self.name, amr=amr, channel=PASSKEY, multi_factor=multi_factor)

    async def enrolled(self, db: AsyncSession, user: User) -> Proof | None:
        return self.proof(backup_eligible=False) if await passkey_repo.count(db, user_id=user.id) else None

    async def charge(self, parts: FactorParts, *, user_id: str, code: str) -> str | None:
        return None  # no code: the challenge is used up when the assertion is checked

    async def verify(self, parts: FactorParts, tx: UnitOfWork, user: User, attempt: Attempt) -> Proof | None:
        """Record the checked assertion (counter, backup state, last use) if the passkey is the
        account's and its counter is still the one it was checked against."""
        asserted = attempt.asserted
        if asserted is None:
            return None
        recorded = await passkey_repo.record_use(
            tx.db,
            user_id=user.id,
            passkey_id=asserted.passkey_id,
            old_count=asserted.old_count,
            new_count=asserted.new_count,
            backed_up=asserted.backed_up,
            now=utcnow(),
        )
        return asserted.proof if recorded else None


PASSKEY_METHOD = PasskeyMethod()
