"""The `mfaToken`: a sign-in that passed its first factor and waits for a second one.

It is an opaque random token (256 bits) stored only as a digest, not a JWT, so no verifier of
access tokens can ever accept it. It lives `mfa_token_ttl_seconds` (5 min), allows
`mfa_token_max_attempts` (5) tries in all, counted before each code is checked, and is used
once: a conditional UPDATE decides the one winner among concurrent right answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from authgate.errors import invalid_token
from authgate.security.tokens import digest, random_token
from authgate.services.runtime import Runtime
from authgate.storage.models import MfaChallenge, User, utcnow
from authgate.storage.repositories import mfa as mfa_repo


@dataclass(frozen=True)
class Challenge:
    """A challenge with one try already counted against it (see `reserve`)."""

    id: str
    user_id: str
    amr: list[str]


def _refused() -> Exception:
    return invalid_token("The MFA token is not valid, was already used, has expired or has no tries left.")


async def issue(rt: Runtime, *, user: User, amr: list[str]) -> str:
    token = random_token()
    now = utcnow()
    row = MfaChallenge(
        user_id=user.id,
        token_hash=digest(token),
        amr=",".join(amr),
        attempts=0,
        created_at=now,
        expires_at=now + timedelta(seconds=rt.settings.mfa_token_ttl_seconds),
    )
    async with rt.db.begin() as db:
        await mfa_repo.purge_challenges(db, user_id=user.id, now=now)
        await mfa_repo.add_challenge(db, row=row)
    return token


async def reserve(rt: Runtime, token: str) -> Challenge:
    """Count one try against the challenge `token` names; invalid_token if none is left."""
    async with rt.db.begin() as db:
        found = await mfa_repo.reserve_attempt(
            db, token_hash=digest(token), now=utcnow(), max_attempts=rt.settings.mfa_token_max_attempts
        )
    if found is None:
        raise _refused()
    return Challenge(id=found.id, user_id=found.user_id, amr=[a for a in found.amr.split(",") if a])


async def consume(rt: Runtime, challenge: Challenge) -> None:
    """Mark the challenge used; of concurrent right answers only one gets past this."""
    async with rt.db.begin() as db:
        won = await mfa_repo.consume_challenge(db, challenge_id=challenge.id, now=utcnow())
    if not won:
        raise _refused()
