"""Every scheme authgate can check, by the name kept beside each hash."""

from __future__ import annotations

from authgate.security.hashing.argon2_family import ARGON2I, ARGON2ID
from authgate.security.hashing.base import Scheme
from authgate.security.hashing.bcrypt_family import BCRYPT, BCRYPT_HMAC_SHA256, BCRYPT_SHA256, DJANGO_BCRYPT_SHA256

SCHEMES: dict[str, Scheme] = {
    scheme.name: scheme
    for scheme in (
        BCRYPT_HMAC_SHA256,
        BCRYPT_SHA256,
        BCRYPT,
        DJANGO_BCRYPT_SHA256,
        ARGON2ID,
        ARGON2I,
    )
}


def verify(scheme: str, password: str, stored: str) -> bool:
    """Whether `password` opens `stored`, a hash of `scheme`; an unknown scheme opens nothing."""
    found = SCHEMES.get(scheme)
    return found is not None and found.verify(password, stored)
