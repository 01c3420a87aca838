"""Every scheme authgate can check, by the name kept beside each hash."""

from __future__ import annotations

from authgate.security.hashing.argon2_family import ARGON2I, ARGON2ID
from authgate.security.hashing.base import Scheme
from authgate.security.hashing.bcrypt_family import BCRYPT, BCRYPT_HMAC_SHA256, BCRYPT_SHA256, DJANGO_BCRYPT_SHA256
from authgate.security.hashing.pbkdf2_family import PBKDF2_SHA1, PBKDF2_SHA256, PBKDF2_SHA512
from authgate.security.hashing.scrypt_family import FIREBASE_SCRYPT, SCRYPT

SCHEMES: dict[str, Scheme] = {
    scheme.name: scheme
    for scheme in (
        BCRYPT_HMAC_SHA256,
        BCRYPT_SHA256,
        BCRYPT,
        DJANGO_BCRYPT_SHA256,
        ARGON2ID,
        ARGON2I,
        PBKDF2_SHA1,
        PBKDF2_SHA256,
        PBKDF2_SHA512,
        SCRYPT,
        FIREBASE_SCRYPT,
    )
}


def verify(scheme: str, password: str, stored: str) -> bool:
    """Whether `password` opens `stored`, a hash of `scheme`; an unknown scheme opens nothing."""
    found = SCHEMES.get(scheme)
    return found is not None and found.verify(password, stored)
