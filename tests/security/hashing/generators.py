"""Hashes made at test time by the libraries that write them in the wild (Django, werkzeug,
argon2-cffi, bcrypt, passlib, firebase_scrypt, hashlib for Kratos and Auth0), at small costs
where the cost is not the point."""

from __future__ import annotations

import base64
import hashlib
import os
from typing import Any

import bcrypt
import firebase_scrypt
from argon2 import PasswordHasher, Type
from django.conf import settings
from django.contrib.auth import hashers as django_hashers
from werkzeug.security import generate_password_hash

if not settings.configured:
    settings.configure(
        PASSWORD_HASHERS=[
            "django.contrib.auth.hashers.PBKDF2PasswordHasher",
            "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
            "django.contrib.auth.hashers.Argon2PasswordHasher",
            "django.contrib.auth.hashers.ScryptPasswordHasher",
            "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
            "django.contrib.auth.hashers.BCryptPasswordHasher",
        ]
    )


class FastPBKDF2(django_hashers.PBKDF2PasswordHasher):
    iterations = 1000


class FastPBKDF2SHA1(django_hashers.PBKDF2SHA1PasswordHasher):
    iterations = 1000


class FastArgon2(django_hashers.Argon2PasswordHasher):
    time_cost = 1
    memory_cost = 1024
    parallelism = 2


class FastScrypt(django_hashers.ScryptPasswordHasher):
    work_factor = 2**10


class FastBCryptSHA256(django_hashers.BCryptSHA256PasswordHasher):
    rounds = 4


class FastBCrypt(django_hashers.BCryptPasswordHasher):
    rounds = 4


DJANGO_FAST: dict[str, Any] = {
    "pbkdf2_sha256": FastPBKDF2(),
    "pbkdf2_sha1": FastPBKDF2SHA1(),
    "argon2": FastArgon2(),
    "scrypt": FastScrypt(),
    "bcrypt_sha256": FastBCryptSHA256(),
    "bcrypt": FastBCrypt(),
}


def django(algorithm: str, password: str) -> str:
    return str(django_hashers.make_password(password, hasher=DJANGO_FAST[algorithm]))


def django_default(algorithm: str, password: str) -> str:
    """Django's own defaults (slow for PBKDF2: made once, for the bounds)."""
    return str(django_hashers.make_password(password, hasher=algorithm))


def werkzeug(method: str, password: str) -> str:
    return generate_password_hash(password, method)


def argon2(kind: Type, password: str, memory_kib: int = 1024, time_cost: int = 1, parallelism: int = 2) -> str:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, type=kind).hash(
        password
    )


def bcrypt_hash(prefix: bytes, password: str, rounds: int = 4) -> str:
    return (
        bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds, prefix=b"2b"))
        .decode()
        .replace("$2b$", f"${prefix.decode()}$")
    )


def passlib_hash(name: str, password: str) -> str:
    from passlib import hash as passlib_hashes

    if name == "scrypt":
        return str(passlib_hashes.scrypt.using(rounds=10).hash(password))
    return str(getattr(passlib_hashes, name).using(rounds=1000).hash(password))


def raw_b64(data: bytes) -> str:
    return base64.b64encode(data).decode().rstrip("=")


def phc_pbkdf2(digest: str, password: str, iterations: int = 1000, salt: bytes | None = None) -> str:
    """Kratos and Auth0 write `$pbkdf2-<digest>$i=<n>,l=<bytes>$<salt>$<hash>`, raw std base64."""
    salt = salt if salt is not None else os.urandom(16)
    key = hashlib.pbkdf2_hmac(digest, password.encode(), salt, iterations)
    return f"$pbkdf2-{digest}$i={iterations},l={len(key)}${raw_b64(salt)}${raw_b64(key)}"


def kratos_scrypt(password: str, n: int = 1024, r: int = 8, p: int = 1) -> str:
    """Kratos writes N itself under `ln`."""
    salt = os.urandom(16)
    key = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=32)
    return f"$scrypt$ln={n},r={r},p={p}${raw_b64(salt)}${raw_b64(key)}"


# Firebase's published test vector (github.com/firebase/scrypt), with its project's parameters;
# it opens with FIREBASE_PASSWORD.
FIREBASE_VECTOR = {
    "format": "firebase-scrypt",
    "hash": "lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==",
    "salt": "42xEC+ixf3L2lw==",
    "params": {
        "signerKey": "jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==",
        "saltSeparator": "Bw==",
        "rounds": 8,
        "memCost": 14,
    },
}
FIREBASE_PASSWORD = "user1password"


def firebase(password: str, rounds: int = 2, mem_cost: int = 10) -> dict[str, object]:
    """An import row's `password` for a hash made by the firebase_scrypt package, with a
    project's parameters of its own."""
    signer_key, separator, salt = os.urandom(64), b"\x07", os.urandom(12)
    derived = firebase_scrypt.generate_derived_key(password, salt, separator, rounds, mem_cost)
    hashed = firebase_scrypt.encrypt(signer_key, derived)
    return {
        "format": "firebase-scrypt",
        "hash": base64.b64encode(hashed).decode(),
        "salt": base64.b64encode(salt).decode(),
        "params": {
            "signerKey": base64.b64encode(signer_key).decode(),
            "saltSeparator": base64.b64encode(separator).decode(),
            "rounds": rounds,
            "memCost": mem_cost,
        },
    }
