"""PBKDF2-HMAC with SHA-1, SHA-256 or SHA-512 (Django, werkzeug, passlib, Auth0, Kratos, Keycloak).

Every import format is rebuilt into one canonical string,
`$pbkdf2-<digest>$i=<iterations>$<salt>$<key>` (standard base64, no padding): the salt is
the raw bytes the source fed PBKDF2 (Django's and werkzeug's text salts as their UTF-8
bytes), and the key length is the decoded key's, so one verifier checks them all."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from authgate.security.hashing.base import MAX_KEY_BYTES, MAX_SALT_BYTES, MIN_KEY_BYTES, b64, same, unb64, utf8

DIGEST_BYTES = {"sha1": 20, "sha256": 32, "sha512": 64}
# SHA-512 costs about twice SHA-256 a round on 64-bit machines, hence its lower bound.
MAX_ITERATIONS = {"sha1": 5_000_000, "sha256": 5_000_000, "sha512": 1_000_000}

_STORED = re.compile(r"\$pbkdf2-(sha1|sha256|sha512)\$i=([0-9]{1,10})\$([A-Za-z0-9+/]*)\$([A-Za-z0-9+/]+)", re.ASCII)


@dataclass(frozen=True)
class Pbkdf2Hash:
    digest: str  # a key of DIGEST_BYTES
    iterations: int
    salt: bytes
    key: bytes

    def encode(self) -> str:
        return f"$pbkdf2-{self.digest}$i={self.iterations}${b64(self.salt)}${b64(self.key)}"

    def invalid(self) -> str | None:
        """Why the hash cannot be a PBKDF2 hash at all, for the operator; None if it can."""
        if self.digest not in DIGEST_BYTES:
            return "PBKDF2 digest is not SHA-1, SHA-256 or SHA-512"
        if self.iterations < 1:
            return f"PBKDF2 iterations {self.iterations} is under 1"
        if len(self.key) < MIN_KEY_BYTES:
            return f"PBKDF2 key length {len(self.key)} bytes is under {MIN_KEY_BYTES}"
        return None

    def too_costly(self) -> str | None:
        """Which parameter makes checking the hash cost more than authgate spends; None if none."""
        bound = MAX_ITERATIONS[self.digest]
        if self.iterations > bound:
            return f"PBKDF2-{self.digest.upper()} iterations {self.iterations} is above the bound of {bound}"
        if len(self.salt) > MAX_SALT_BYTES:
            return f"PBKDF2 salt length {len(self.salt)} bytes is above the bound of {MAX_SALT_BYTES}"
        if len(self.key) > MAX_KEY_BYTES:
            return f"PBKDF2 key length {len(self.key)} bytes is above the bound of {MAX_KEY_BYTES}"
        return None


def decode(stored: str) -> Pbkdf2Hash | None:
    """The canonical string's parts, None if it is not one."""
    match = _STORED.fullmatch(stored)
    if match is None:
        return None
    salt, key = unb64(match[3]), unb64(match[4])
    if salt is None or key is None:
        return None
    return Pbkdf2Hash(match[1], int(match[2]), salt, key)


@dataclass(frozen=True)
class Pbkdf2Scheme:
    name: str
    digest: str

    def verify(self, password: str, stored: str) -> bool:
        found, secret = decode(stored), utf8(password)
        if found is None or secret is None or found.digest != self.digest or found.invalid() or found.too_costly():
            return False
        derived = hashlib.pbkdf2_hmac(self.digest, secret, found.salt, found.iterations, dklen=len(found.key))
        return same(derived, found.key)


PBKDF2_SHA1 = Pbkdf2Scheme("pbkdf2-sha1", "sha1")
PBKDF2_SHA256 = Pbkdf2Scheme("pbkdf2-sha256", "sha256")
PBKDF2_SHA512 = Pbkdf2Scheme("pbkdf2-sha512", "sha512")
BY_DIGEST = {scheme.digest: scheme for scheme in (PBKDF2_SHA1, PBKDF2_SHA256, PBKDF2_SHA512)}
