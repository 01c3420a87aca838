"""The configured scheme: what every new hash is made with, and which stored hashes it replaces
at their owner's next sign-in (AUTHGATE_PASSWORD_HASH and its parameters)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from authgate.security.hashing import argon2_family, bcrypt_family
from authgate.security.hashing.argon2_family import Argon2Params

# AUTHGATE_PASSWORD_HASH → the scheme its new hashes are stored as.
CONFIGURABLE = {"bcrypt": bcrypt_family.BCRYPT_HMAC_SHA256.name, "argon2id": argon2_family.ARGON2ID.name}


class StoredHash(NamedTuple):
    scheme: str
    value: str


@dataclass(frozen=True)
class HashPolicy:
    setting: str = "bcrypt"  # a key of CONFIGURABLE
    bcrypt_rounds: int = 12
    argon2: Argon2Params = field(default_factory=Argon2Params)

    @property
    def scheme(self) -> str:
        return CONFIGURABLE[self.setting]

    def make(self, password: str) -> StoredHash:
        """A new hash of `password` in the configured scheme (slow: run it in the hashing pool)."""
        if self.setting == "argon2id":
            return StoredHash(self.scheme, argon2_family.make(password, self.argon2))
        return StoredHash(self.scheme, bcrypt_family.BCRYPT_HMAC_SHA256.make(password, self.bcrypt_rounds))

    def needs_rehash(self, stored: StoredHash) -> bool:
        """Whether a correct password's hash is to be replaced: another scheme, or the configured
        one with other parameters."""
        if stored.scheme != self.scheme:
            return True
        if self.setting == "argon2id":
            return argon2_family.needs_rehash(stored.value, self.argon2)
        return bcrypt_family.cost(stored.value) != self.bcrypt_rounds
