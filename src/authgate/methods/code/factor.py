"""One-time codes by email or SMS: a first factor (passwordless sign-in) and a second one.

Sending them and the other flows are `flows.py` and `enrol.py`; this module is what the gate
asks. A code allows a few tries: as a second factor, its try is spent by `charge` (the one
redeem path of the one-time store, committed at once) before the sign-in's transaction, so a
wrong code costs a try whatever the sign-in does next, and `verify` only uses up the code
`charge` matched.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from authgate.core.factors import SMS, Attempt, FactorParts, Proof
from authgate.security.codes import normalize_code
from authgate.signin import one_time
from authgate.storage.models import utcnow
from authgate.storage.models.one_time import CODE_MFA
from authgate.storage.repositories import mfa as mfa_repo
from authgate.storage.repositories import one_time as one_time_repo

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from authgate.storage.models import User
    from authgate.storage.uow import UnitOfWork


class CodeMethod:
    name = "code"
    first_factor = True
    second_factor = True
    enables_mfa = True

    def proof(self, channel: str) -> Proof:
        # RFC 8176 has "sms"; it has no value for a code sent by email.
        return Proof(method=self.name, amr="sms" if channel == SMS else "email_code", channel=channel)

    async def enrolled(self, db: AsyncSession, user: User) -> Proof | None:
        factor = await mfa_repo.get_code_factor(db, user_id=user.id)
        return self.proof(factor.channel) if factor is not None else None

    async def charge(self, parts: FactorParts, *, user_id: str, code: str) -> str | None:
        """Spend a try on the newest live second-factor code sent to the enrolled channel;
        its id when `code` matches it."""
        normalized = normalize_code(code)
        async with parts.read() as db:
            factor = await mfa_repo.get_code_factor(db, user_id=user_id)
        if normalized is None or factor is None:
            return None
        redeemed = await one_time.redeem_code(parts, purpose=CODE_MFA, code=normalized, user_id=user_id)
        row = redeemed.row
        return row.id if row is not None and row.channel == factor.channel else None

    async def verify(self, parts: FactorParts, tx: UnitOfWork, user: User, attempt: Attempt) -> Proof | None:
        """Use up the code `charge` matched, if the factor is still on."""
        factor = await mfa_repo.get_code_factor(tx.db, user_id=user.id) if attempt.charged is not None else None
        if factor is None or attempt.charged is None:
            return None
        used = await one_time_repo.consume(tx.db, secret_id=attempt.charged, now=utcnow())
        return self.proof(factor.channel) if used else None


CODE = CodeMethod()
