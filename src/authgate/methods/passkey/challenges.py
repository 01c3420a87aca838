"""WebAuthn challenges in the one-time store: 32 random bytes each, for one purpose, bound to
the account (registration), the mfaToken (second step) or the session (re-authentication),
valid 5 minutes, and used up by the first verify that names them, whatever its outcome
(committed before the checks run), so a captured response cannot be replayed and of N
concurrent verifies one proceeds."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timedelta

import orjson

from authgate.core.parts import Parts
from authgate.errors import AuthError, ErrorCode
from authgate.security.opaque import digest
from authgate.signin import one_time
from authgate.storage.models import utcnow
from authgate.storage.repositories import one_time as one_time_repo
from authgate.storage.uow import UnitOfWork

LIFETIME = timedelta(minutes=5)


@dataclass(frozen=True)
class Issued:
    challenge_id: str  # what the client sends back; only its digest is stored
    challenge: bytes
    expires_at: datetime


@dataclass(frozen=True)
class Taken:
    challenge: bytes
    user_id: str | None
    bound_to: str | None  # the mfaToken's row (a second step) or the session (a re-authentication)


def refused() -> AuthError:
    detail = "The passkey challenge is not valid, was already used or has expired; ask for new options."
    return AuthError(ErrorCode.INVALID_TOKEN, 400, "Invalid challenge", detail)


async def issue(
    tx: UnitOfWork, *, purpose: str, challenge: bytes, user_id: str | None = None, bound_to: str | None = None
) -> Issued:
    data = {"c": base64.urlsafe_b64encode(challenge).decode(), "b": bound_to}
    challenge_id, row = one_time.token_row(
        purpose=purpose, user_id=user_id, lifetime=LIFETIME, data=orjson.dumps(data).decode()
    )
    await one_time_repo.add(tx.db, row=row)
    return Issued(challenge_id=challenge_id, challenge=challenge, expires_at=row.expires_at)


async def take(
    rt: Parts, *, purpose: str, challenge_id: str, user_id: str | None = None, bound_to: str | None = None
) -> Taken:
    """Use the challenge up (committed at once); 400 `invalid_token` when it is unknown, used,
    expired, of another purpose, or issued to another account, mfaToken or session."""
    async with rt.read() as db:
        row = await one_time_repo.consume_by_digest(
            db,
            purpose=purpose,
            digest=digest(challenge_id),
            now=utcnow(),
            user_id=user_id,
            anonymous=user_id is None,
        )
    if row is None or row.data is None:
        raise refused()
    data = orjson.loads(row.data)
    if data.get("b") != bound_to:
        raise refused()
    return Taken(challenge=base64.urlsafe_b64decode(data["c"]), user_id=row.user_id, bound_to=data.get("b"))
