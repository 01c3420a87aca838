"""The four schemes that end in bcrypt, told apart only by what they feed it.

- `bcrypt-hmac-sha256` (authgate's default): base64(HMAC-SHA256(key = the hash's 22-character
  bcrypt salt, password)). Every byte of the password counts, and a leaked unsalted SHA-256
  of the same password elsewhere cannot be tested against the hash (no "shucking").
- `bcrypt-sha256`: base64(SHA-256(password)), authgate's own before the keyed pre-hash.
- `bcrypt`: the password itself (Supabase, Auth0, Spring, Node, PHP); bcrypt reads at most
  72 bytes, so a longer password never opens such a hash.
- `django-bcrypt-sha256`: the lower-case hex SHA-256 of the password (Django's `bcrypt_sha256`).

All keep the bcrypt string itself (`$2a$`, `$2b$` or `$2y$`, cost, 53 characters)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass

import bcrypt

from authgate.security.hashing.base import MAX_PASSWORD_BYTES_PLAIN_BCRYPT, utf8


def _salt(stored: bytes) -> bytes:
    """The 22 characters of salt in `$2b$12$<salt 22><hash 31>`."""
    return stored[7:29]


def _hmac_sha256(password: bytes, stored: bytes) -> bytes:
    return base64.b64encode(hmac.new(_salt(stored), password, hashlib.sha256).digest())


def _sha256(password: bytes, _stored: bytes) -> bytes:
    return base64.b64encode(hashlib.sha256(password).digest())


def _plain(password: bytes, _stored: bytes) -> bytes:
    return password


def _hex_sha256(password: bytes, _stored: bytes) -> bytes:
    return hashlib.sha256(password).hexdigest().encode("ascii")


@dataclass(frozen=True)
class BcryptScheme:
    name: str
    feed: Callable[[bytes, bytes], bytes]  # (password, the bcrypt string) -> what bcrypt reads

    def verify(self, password: str, stored: str) -> bool:
        secret, hashed = utf8(password), stored.encode("ascii", "replace")
        if secret is None or len(hashed) != 60:
            return False
        fed = self.feed(secret, hashed)
        if len(fed) > MAX_PASSWORD_BYTES_PLAIN_BCRYPT:  # only plain bcrypt can get here
            return False
        try:
            return bcrypt.checkpw(fed, hashed)
        except ValueError:  # a damaged hash
            return False

    def make(self, password: str, rounds: int) -> str:
        salt = bcrypt.gensalt(rounds)
        return bcrypt.hashpw(self.feed(password.encode("utf-8"), salt), salt).decode("ascii")


BCRYPT_HMAC_SHA256 = BcryptScheme("bcrypt-hmac-sha256", _hmac_sha256)
BCRYPT_SHA256 = BcryptScheme("bcrypt-sha256", _sha256)
BCRYPT = BcryptScheme("bcrypt", _plain)
DJANGO_BCRYPT_SHA256 = BcryptScheme("django-bcrypt-sha256", _hex_sha256)


def cost(stored: str) -> int | None:
    """The cost a bcrypt string was made with (`$2b$12$…` → 12), None if it does not say."""
    parts = stored.split("$")
    return int(parts[2]) if len(parts) > 3 and parts[2].isdigit() else None
