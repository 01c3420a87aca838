"""The pages' CSRF defence, both checks on every POST (docs/hosted-pages.md#forms-and-csrf).

1. Fetch metadata: an `Origin`, when sent, must be the public URL's origin (`null` never is),
   and a `Sec-Fetch-Site`, when sent, must be `same-origin`.
2. A signed double-submit token: the cookie (written by http/cookies.py) holds 32 random bytes; each form carries
   base64url(HMAC-SHA256(key, cookie value + session id or `anonymous`)), the key derived from
   `JWT_SECRET` with HKDF. A form cannot be replayed from another browser (another cookie) nor
   after a sign-in or sign-out (another session id, and a new cookie value).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from starlette.datastructures import Headers

from authgate.security.origins import origin_of
from authgate.settings import Settings

FIELD = "csrf_token"
ANONYMOUS = "anonymous"


@lru_cache(maxsize=4)
def _key(jwt_secret: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"authgate-ui-csrf").derive(
        jwt_secret.encode("utf-8")
    )


def token_for(settings: Settings, cookie_value: str, session_id: str | None) -> str:
    message = f"{cookie_value}.{session_id or ANONYMOUS}".encode()
    mac = hmac.new(_key(settings.jwt_secret), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")


def from_our_pages(headers: Headers, settings: Settings) -> bool:
    """Check 1: nothing in the request's metadata says another origin sent it."""
    origin = headers.get("origin")
    if origin is not None and (origin.strip() == "null" or origin_of(origin) != origin_of(settings.public_url)):
        return False
    site = headers.get("sec-fetch-site")
    return site is None or site.strip().lower() == "same-origin"


def token_matches(settings: Settings, *, cookie_value: str | None, session_id: str | None, token: str | None) -> bool:
    """Check 2, in constant time. Compared as bytes: `compare_digest` refuses a str that is not
    ASCII with a TypeError, and the posted token is whatever the sender chose."""
    if not cookie_value or not token:
        return False
    expected = token_for(settings, cookie_value, session_id).encode("ascii")
    return hmac.compare_digest(expected, token.encode("utf-8", "surrogatepass"))
