"""argon2id (and argon2i, which older argon2-cffi and Keycloak made), through argon2-cffi.

The PHC string (`$argon2id$v=19$m=65536,t=3,p=1$salt$hash`) carries its own parameters, so
one verifier checks a hash of any parameters; `needs_rehash` compares them with the
configured ones.

argon2-cffi is imported on first use: a worker whose accounts hold no argon2 hash, with bcrypt
configured, never loads it (tests/runtime/test_footprint.py)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING

from authgate.security.hashing.base import utf8

if TYPE_CHECKING:
    from argon2 import PasswordHasher


@dataclass(frozen=True)
class Argon2Params:
    memory_kib: int = 65536
    time_cost: int = 3
    parallelism: int = 1

    @cached_property
    def hasher(self) -> PasswordHasher:
        from argon2 import PasswordHasher, Type

        return PasswordHasher(
            time_cost=self.time_cost, memory_cost=self.memory_kib, parallelism=self.parallelism, type=Type.ID
        )


@lru_cache(maxsize=1)
def _any() -> PasswordHasher:
    """A verifier for every argon2 hash: `verify` reads the parameters and type from the hash."""
    from argon2 import PasswordHasher

    return PasswordHasher()


@dataclass(frozen=True)
class Argon2Scheme:
    name: str
    prefix: str

    def verify(self, password: str, stored: str) -> bool:
        secret = utf8(password)
        if secret is None or not stored.startswith(self.prefix):  # the stored scheme and the string must agree
            return False
        from argon2.exceptions import InvalidHashError, VerificationError

        try:
            return _any().verify(stored, secret)
        except (VerificationError, InvalidHashError):  # a mismatch is a VerificationError
            return False


ARGON2ID = Argon2Scheme("argon2id", "$argon2id$")
ARGON2I = Argon2Scheme("argon2i", "$argon2i$")


def make(password: str, params: Argon2Params) -> str:
    return params.hasher.hash(password)


def needs_rehash(stored: str, params: Argon2Params) -> bool:
    from argon2.exceptions import InvalidHashError

    try:
        return params.hasher.check_needs_rehash(stored)
    except (InvalidHashError, ValueError):
        return True
