"""ALTCHA: a self-hosted proof of work, checked here with the `altcha` library, no third party.

`GET /captcha/challenge` hands out a challenge signed with our HMAC key; the widget finds the
number that solves it and sends back a base64 JSON payload as the token. The format is ALTCHA's
SHA-256 challenge (the library's v1 API), the one the widget fetches from its `challengeurl`.

The signature makes a challenge unforgeable and its salt carries the expiry. What it cannot do
is stop a solution from being sent twice, so each one is claimed in the shared state (this
process, or Redis for every node) until its challenge has expired: a replay is refused.

The library is imported where it is called: with another provider, or none, it never loads
(about 1 MB; tests/runtime/test_footprint.py)."""

from __future__ import annotations

import base64
import binascii
import math
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, cast

import orjson
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from authgate.observability.logging import get_logger

if TYPE_CHECKING:
    from altcha.v1 import PayloadType

log = get_logger("authgate.captcha")

MAX_NUMBER = 100_000  # work for the client: on average half of this many hashes, well under a second
LIFETIME = timedelta(minutes=10)
CLOCK_SKEW_SECONDS = 60  # a claim outlives its challenge by this much, in case nodes' clocks differ


class Claims(Protocol):
    async def claim(self, key: str, ttl_seconds: int) -> bool:
        """True the first time `key` is claimed within `ttl_seconds`."""
        ...


def derived_key(jwt_secret: str) -> bytes:
    """The HMAC key when AUTHGATE_CAPTCHA_SECRET is unset: derived from the signing secret under
    a label of its own, so the signing secret is never used as this key itself."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"authgate altcha challenges v1")
    return hkdf.derive(jwt_secret.encode("utf-8"))


class AltchaVerifier:
    def __init__(self, *, hmac_key: str | bytes, claims: Claims) -> None:
        self.hmac_key = hmac_key
        self.claims = claims

    def challenge(self) -> dict[str, Any]:
        """A new challenge, as the widget reads it."""
        from altcha.v1 import SHA256, ChallengeOptions, create_challenge  # see the module's docstring

        options = ChallengeOptions(
            algorithm=SHA256, max_number=MAX_NUMBER, hmac_key=self.hmac_key, expires=datetime.now(UTC) + LIFETIME
        )
        issued = create_challenge(options)
        return {
            "algorithm": issued.algorithm,
            "challenge": issued.challenge,
            "maxnumber": issued.max_number,
            "salt": issued.salt,
            "signature": issued.signature,
        }

    async def verify(self, token: str, ip: str | None) -> bool:
        from altcha.v1 import verify_solution  # see the module's docstring

        payload = _payload(token)
        if payload is None:
            return False
        expires = _expires(payload)
        if expires is None:  # we never issue a challenge without one
            return False
        try:
            verified, _ = verify_solution(cast("PayloadType", payload), self.hmac_key, check_expires=True)
        except (TypeError, ValueError, AttributeError):  # well-formed JSON of the wrong shapes
            return False
        if not verified or expires <= time.time():
            return False
        ttl = math.ceil(expires - time.time()) + CLOCK_SKEW_SECONDS
        try:
            return await self.claims.claim(f"altcha:{payload['challenge']}", ttl)
        except Exception as exc:  # the shared state does not answer: a solution we cannot claim is refused
            log.warning("captcha_claim_unavailable", reason=type(exc).__name__)
            return False


def _payload(token: str) -> dict[str, Any] | None:
    """The JSON object the widget base64-encodes (standard alphabet, padded)."""
    try:
        decoded = orjson.loads(base64.b64decode(token, validate=True))
    except (binascii.Error, ValueError):
        return None
    return decoded if isinstance(decoded, dict) else None


def _expires(payload: dict[str, Any]) -> float | None:
    if not isinstance(payload.get("salt"), str):
        return None
    from altcha.v1 import extract_params  # see the module's docstring

    values = extract_params(cast("PayloadType", payload)).get("expires")
    try:
        return float(values[0]) if values and len(values) == 1 else None
    except ValueError:
        return None
