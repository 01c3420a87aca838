"""argon2id (and argon2i, which older argon2-cffi and Keycloak made), through argon2-cffi.

The PHC string (`$argon2id$v=19$m=65536,t=3,p=1$salt$hash`) carries its own parameters, so
one verifier checks a hash of any parameters; `needs_rehash` compares them with the
configured ones."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


@dataclass(frozen=True)
class Argon2Params:
    memory_kib: int = 65536
    time_cost: int = 3
    parallelism: int = 1

    @cached_property
    def hasher(self) -> PasswordHasher:
        return PasswordHasher(
            time_cost=self.time_cost, memory_cost=self.memory_kib, parallelism=self.parallelism, type=Type.ID
        )


_ANY = PasswordHasher()  # verify() reads the parameters and the type from the hash itself


@dataclass(frozen=True)
class Argon2Scheme:
    name: str
    prefix: str

    def verify(self, password: str, stored: str) -> bool:
        if not stored.startswith(self.prefix):  # the stored scheme and the string must agree
            return False
        try:
            return _ANY.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False


ARGON2ID = Argon2Scheme("argon2id", "$argon2id$")
ARGON2I = Argon2Scheme("argon2i", "$argon2i$")


def make(password: str, params: Argon2Params) -> str:
    return params.hasher.hash(password)


def needs_rehash(stored: str, params: Argon2Params) -> bool:
    try:
        return params.hasher.check_needs_rehash(stored)
    except (InvalidHashError, ValueError):
        return True
