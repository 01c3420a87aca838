"""The mfaToken: a sign-in waiting for its second step. An opaque random token (not a JWT, so
no access-token check can accept it), kept as a digest with the first factor's proofs, and
charged one try per use before any code is checked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import orjson

from authgate.core.factors import Proof
from authgate.core.parts import Parts
from authgate.errors import invalid_token
from authgate.security.opaque import digest
from authgate.signin import one_time
from authgate.storage.models import User, utcnow
from authgate.storage.models.one_time import MFA_CHALLENGE
from authgate.storage.repositories import one_time as one_time_repo
from authgate.storage.uow import UnitOfWork


def proofs_data(proofs: list[Proof]) -> list[list[str]]:
    """The first factor's proofs as kept with a sign-in waiting for its next step."""
    return [[p.method, p.amr, p.channel] for p in proofs]


def proofs_from(data: list[list[str]]) -> list[Proof]:
    return [Proof(method=m, amr=a, channel=c) for m, a, c in data]


def pending_proofs(data: str | None) -> list[Proof]:
    """The first factor's proofs, as an mfaToken's row keeps them."""
    return proofs_from(orjson.loads(data or "[]"))


def challenge_refused() -> Exception:
    return invalid_token("The MFA token is not valid, was already used, has expired or has no tries left.")


async def issue_challenge(tx: UnitOfWork, rt: Parts, *, user: User, proofs: list[Proof]) -> str:
    """The `mfaToken`: an opaque random token (not a JWT, so no access-token check can accept
    it), kept as a digest, with the first factor's proofs; `mfa_token_max_attempts` tries."""
    data = orjson.dumps(proofs_data(proofs)).decode()
    token, row = one_time.token_row(
        purpose=MFA_CHALLENGE,
        user_id=user.id,
        lifetime=timedelta(seconds=rt.settings.mfa_token_ttl_seconds),
        max_attempts=rt.settings.mfa_token_max_attempts,
        data=data,
    )
    await one_time_repo.purge(tx.db, user_id=user.id, purpose=MFA_CHALLENGE, now=row.created_at)
    await one_time_repo.add(tx.db, row=row)
    return token


@dataclass(frozen=True)
class Challenge:
    id: str
    user_id: str
    proofs: list[Proof]


async def charge_challenge(rt: Parts, token: str) -> Challenge:
    """Count one try against the challenge (committed before any code is checked, so the
    limit holds under parallel guesses); invalid_token when none is left."""
    async with rt.uow() as tx:
        row = await one_time_repo.spend_attempt(tx.db, purpose=MFA_CHALLENGE, digest=digest(token), now=utcnow())
    if row is None or row.user_id is None:
        raise challenge_refused()
    return Challenge(id=row.id, user_id=row.user_id, proofs=pending_proofs(row.data))
