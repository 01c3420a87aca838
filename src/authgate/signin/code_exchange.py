"""The code exchange for native and mobile apps (PKCE, RFC 7636, S256 only).

An app that cannot receive cookies starts a magic link or a social sign-in with a
`codeChallenge` (the base64url SHA-256 of a secret `codeVerifier` it keeps). The flow then
ends with a redirect to the app's own URL carrying a one-time `code` instead of setting
cookies, and the app trades `{code, codeVerifier}` at `POST /token` for the login response.
Whoever intercepts the redirect (another app claiming the scheme) has the code but not the
verifier.

The code is a random token kept as its digest in the one-time store, with the account and the
proofs of the first factor; it lives 60 seconds and the first attempt, right or wrong, uses it
up. The sign-in gate runs at the exchange, where the session starts: lockout, a disabled
account and the second factor are checked then, as for every other way in.
"""

from __future__ import annotations

import hmac
import re
from datetime import timedelta

import orjson

from authgate.core.factors import Proof
from authgate.core.parts import Parts
from authgate.errors import AuthError, ErrorCode, FieldError, validation_failed
from authgate.scope import RequestContext
from authgate.security.opaque import digest
from authgate.signin import gate, one_time
from authgate.signin.challenge import proofs_data, proofs_from
from authgate.signin.sessions import LoginResult
from authgate.storage.models import utcnow
from authgate.storage.models.one_time import CODE_EXCHANGE
from authgate.storage.repositories import one_time as one_time_repo
from authgate.storage.repositories import users as user_repo
from authgate.storage.uow import UnitOfWork

LIFETIME = timedelta(seconds=60)
S256 = "S256"
CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")  # base64url of a SHA-256, unpadded
VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")  # RFC 7636 section 4.1
MAX_CODE_CHARS = 128


def bad_code() -> AuthError:
    """Unknown, used, expired, or a verifier that does not match: one answer."""
    return AuthError(
        ErrorCode.INVALID_TOKEN, 400, "Invalid code", "The code is not valid, was already used, or has expired."
    )


def checked_challenge(challenge: str | None, method: str | None, redirect_to: str | None) -> str | None:
    """The challenge a flow was started with, if any; 400 naming the field when it is not an
    S256 challenge, or when there is no `redirectTo` to send the code to."""
    if challenge is None:
        if method is not None:
            raise validation_failed(FieldError("codeChallenge", "Give the challenge with its method."))
        return None
    if (method or S256) != S256:
        raise validation_failed(FieldError("codeChallengeMethod", "Only S256 is supported."))
    if not CHALLENGE.fullmatch(challenge):
        raise validation_failed(FieldError("codeChallenge", "Expected the base64url SHA-256 of the code verifier."))
    if redirect_to is None:
        raise validation_failed(FieldError("redirectTo", "The app's URL to send the code to is required."))
    return challenge


async def issue(tx: UnitOfWork, *, user_id: str, proofs: list[Proof], challenge: str) -> str:
    """A new code for this sign-in's first factor, in `tx`."""
    data = orjson.dumps({"challenge": challenge, "proofs": proofs_data(proofs)}).decode()
    code, row = one_time.token_row(purpose=CODE_EXCHANGE, user_id=user_id, lifetime=LIFETIME, data=data)
    await one_time_repo.add(tx.db, row=row)
    return code


async def exchange(rt: Parts, *, code: str, verifier: str, ctx: RequestContext) -> LoginResult:
    """Use the code up (committed at once, whatever follows), check the verifier, then sign
    in through the gate (`mfa_required` when the account has a second factor)."""
    if not code or len(code) > MAX_CODE_CHARS:
        raise bad_code()
    async with rt.uow() as tx:
        row = await one_time_repo.consume_by_digest(tx.db, purpose=CODE_EXCHANGE, digest=digest(code), now=utcnow())
    if row is None or row.user_id is None or row.data is None:
        raise bad_code()
    from authlib.oauth2.rfc7636 import create_s256_code_challenge  # on first use: authlib costs about 2.5 MB

    stored = orjson.loads(row.data)
    if not VERIFIER.fullmatch(verifier) or not hmac.compare_digest(
        create_s256_code_challenge(verifier), stored["challenge"]
    ):
        raise bad_code()
    proofs = proofs_from(stored["proofs"])
    async with rt.uow() as tx:
        user = await user_repo.get(tx.db, user_id=row.user_id)
        if user is None:
            raise bad_code()
        outcome = await gate.complete(tx, rt, user=user, proofs=proofs, ctx=ctx)
    return await gate.finish(rt, outcome)
