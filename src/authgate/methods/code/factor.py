"""One-time codes by email or SMS: a first factor (passwordless sign-in) and a second one.

Sending them is `services/one_time_codes.py`; this module is what the gate asks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from authgate.core.factors import SMS, Proof
from authgate.security.codes import normalize_code
from authgate.storage.models import utcnow
from authgate.storage.models.one_time import CODE_MFA
from authgate.storage.repositories import mfa as mfa_repo
from authgate.storage.repositories import one_time as one_time_repo

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from authgate.runtime import Runtime
    from authgate.storage.models import User
    from authgate.storage.uow import UnitOfWork


class CodeMethod:
    name = "code"
    first_factor = True
    second_factor = True

    def proof(self, channel: str) -> Proof:
        # RFC 8176 has "sms"; it has no value for a code sent by email.
        return Proof(method=self.name, amr="sms" if channel == SMS else "email_code", channel=channel)

    async def enrolled(self, db: AsyncSession, user: User) -> Proof | None:
        factor = await mfa_repo.get_code_factor(db, user_id=user.id)
        return self.proof(factor.channel) if factor is not None else None

    async def verify(self, rt: Runtime, tx: UnitOfWork, user: User, code: str) -> bool:
        """The newest live second-factor code sent to the enrolled channel: a try is spent,
        the code compared, and on a match used up, all in `tx`."""
        normalized = normalize_code(code)
        factor = await mfa_repo.get_code_factor(tx.db, user_id=user.id)
        if normalized is None or factor is None:
            return False
        now = utcnow()
        row = await one_time_repo.latest(tx.db, purpose=CODE_MFA, user_id=user.id, now=now)
        if row is None or row.channel != factor.channel:
            return False
        spent = await one_time_repo.spend_attempt(tx.db, purpose=CODE_MFA, secret_id=row.id, now=now)
        if spent is None or not rt.codes.matches(normalized, spent.digest, bound_to=spent.id):
            return False
        return await one_time_repo.consume(tx.db, secret_id=spent.id, now=now)


CODE = CodeMethod()
