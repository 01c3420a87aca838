"""JWT signing and verification, and random one-time secrets.

Only the configured algorithm is accepted; the header's `kid`, `jku`, `x5u` and `jwk` are
never used to pick a key. Every token carries a `purpose` claim that verification checks, so an
MFA token or any other kind can never pass where an access token is expected (RFC 8725 §3.11).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt

from authgate.errors import invalid_token, token_expired

ACCESS = "access"


@dataclass(frozen=True)
class TokenCodec:
    secret: str
    issuer: str
    audience: str
    algorithm: str = "HS256"

    def encode(self, claims: dict[str, Any], *, purpose: str, ttl_seconds: int) -> str:
        now = int(time.time())
        payload = {
            "iss": self.issuer,
            "aud": self.audience,
            "iat": now,
            "exp": now + ttl_seconds,
            "jti": uuid.uuid4().hex,
            "purpose": purpose,
            **claims,
        }
        return jwt.encode(payload, self.secret, algorithm=self.algorithm, headers={"typ": "JWT"})

    def decode(self, token: str, *, purpose: str) -> dict[str, Any]:
        """Verify signature, algorithm, `exp`, `iss`, `aud` and purpose; raise AuthError."""
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self.secret,
                algorithms=[self.algorithm],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "iss", "aud", "sub", "purpose"]},
                leeway=0,
            )
        except jwt.ExpiredSignatureError:
            raise token_expired() from None
        except jwt.PyJWTError:
            raise invalid_token() from None
        if claims.get("purpose") != purpose:
            raise invalid_token()
        return claims


def random_token(nbytes: int = 32) -> str:
    """A URL-safe random secret of `nbytes` bytes (32 bytes = 256 bits)."""
    return secrets.token_urlsafe(nbytes)


def digest(token: str) -> str:
    """How a one-time secret is stored: its SHA-256, so a database leak reveals no token."""
    return base64.urlsafe_b64encode(hashlib.sha256(token.encode("utf-8")).digest()).decode("ascii").rstrip("=")
