"""Issuing and redeeming one-time secrets, over the one store (storage/repositories/one_time.py).

A token (link, mfaToken) is 256 random bits kept as its SHA-256; a code is six digits kept as
an HMAC bound to its row, so a stored value cannot be tried offline or moved to another row.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

from authgate.security.codes import new_code
from authgate.security.opaque import digest, random_token
from authgate.storage.models import OneTimeSecret, new_id, utcnow
from authgate.storage.repositories import one_time as one_time_repo

if TYPE_CHECKING:
    from authgate.security.codes import CodeHasher
    from authgate.storage.uow import UnitOfWork


class StoreParts(Protocol):
    """What the one-time store uses: the keyed hash of codes, and transactions."""

    @property
    def codes(self) -> CodeHasher: ...
    def uow(self) -> AbstractAsyncContextManager[UnitOfWork]: ...


def token_row(
    *, purpose: str, user_id: str | None, lifetime: timedelta, max_attempts: int = 1, **fields: Any
) -> tuple[str, OneTimeSecret]:
    """A new random token and the row that stores its digest."""
    token = random_token()
    now = utcnow()
    row = OneTimeSecret(
        id=new_id(),
        purpose=purpose,
        user_id=user_id,
        digest=digest(token),
        attempts=0,
        max_attempts=max_attempts,
        created_at=now,
        expires_at=now + lifetime,
        **fields,
    )
    return token, row


def code_row(
    rt: StoreParts, *, purpose: str, user_id: str | None, lifetime: timedelta, max_attempts: int, **fields: Any
) -> tuple[str, OneTimeSecret]:
    """A new six-digit code and the row that stores its HMAC."""
    code = new_code()
    now = utcnow()
    row_id = new_id()
    row = OneTimeSecret(
        id=row_id,
        purpose=purpose,
        user_id=user_id,
        digest=rt.codes.digest(code, bound_to=row_id),
        attempts=0,
        max_attempts=max_attempts,
        created_at=now,
        expires_at=now + lifetime,
        **fields,
    )
    return code, row


def code_matches(rt: StoreParts, row: OneTimeSecret, code: str) -> bool:
    return rt.codes.matches(code, row.digest, bound_to=row.id)


@dataclass(frozen=True)
class Redeemed:
    """A code check: `row` when the code was right (still to be used up by the caller);
    `owner`, the account the newest live code belonged to, right or wrong (for counting)."""

    row: OneTimeSecret | None
    owner: str | None


async def redeem_code(
    rt: StoreParts, *, purpose: str, code: str | None, address: str | None = None, user_id: str | None = None
) -> Redeemed:
    """Spend a try on the newest live code for `address` / `user_id` (committed at once,
    whatever follows), then compare. A right code is used up by the caller
    (`one_time_repo.consume`) in the transaction that acts on it, so one code works once."""
    now = utcnow()
    async with rt.uow() as tx:
        row = await one_time_repo.latest(tx.db, purpose=purpose, address=address, user_id=user_id, now=now)
        spent = row and await one_time_repo.spend_attempt(tx.db, purpose=purpose, secret_id=row.id, now=now)
    owner = row.user_id if row else None
    if not spent or code is None or not code_matches(rt, spent, code):
        return Redeemed(row=None, owner=owner)
    return Redeemed(row=spent, owner=owner)
