"""scrypt (Django, werkzeug, passlib, Kratos) and Firebase's modified scrypt.

- `scrypt`: `$scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt>$<key>` (passlib's PHC string, standard
  base64 without padding); the salt is the raw bytes the source fed scrypt (Django's and
  werkzeug's text salts as their UTF-8 bytes) and the key length the decoded key's.
- `firebase-scrypt`: `$firebase-scrypt$r=<rounds>,m=<memCost>$<salt>$<saltSeparator>$<signerKey>$<hash>`.
  Firebase keeps no scrypt output: it encrypts the project's signer key with AES-256-CTR
  (zero counter block) under scrypt(password, salt ‖ separator, N = 2^memCost, r = rounds,
  p = 1, 32 bytes), and keeps that. The project-wide separator and signer key are kept in
  every hash so that each row checks on its own."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from authgate.security.hashing.base import MAX_KEY_BYTES, MAX_SALT_BYTES, MIN_KEY_BYTES, b64, same, unb64, utf8

MAX_MEMORY_BYTES = 256 * 1024 * 1024  # 128·N·r, scrypt's working memory
MAX_R = 32
MAX_P = 16
MAX_NRP = 2**21  # N·r·p, what the time taken grows with
MAX_LOG_N = 21  # 128·2^21·1 is the memory bound already
MAX_FIREBASE_ROUNDS = 8
MAX_FIREBASE_MEM_COST = 14

_B = "[A-Za-z0-9+/]"
_STORED = re.compile(rf"\$scrypt\$ln=([0-9]{{1,10}}),r=([0-9]{{1,10}}),p=([0-9]{{1,10}})\$({_B}*)\$({_B}+)", re.ASCII)
_FIREBASE = re.compile(
    rf"\$firebase-scrypt\$r=([0-9]{{1,10}}),m=([0-9]{{1,10}})\$({_B}+)\$({_B}*)\$({_B}+)\$({_B}+)", re.ASCII
)


def _scrypt(secret: bytes, salt: bytes, log_n: int, r: int, p: int, dklen: int) -> bytes:
    n = 2**log_n
    # OpenSSL's own limit (32 MiB) refuses werkzeug's N = 2^15, r = 8: allow what these
    # parameters take (V: 128·r·(N + 2), B: 128·r·p) and a margin; the bounds cap it.
    maxmem = min(128 * r * (n + 2) + 128 * r * p + 1024 * 1024, 2**31 - 1)
    return hashlib.scrypt(secret, salt=salt, n=n, r=r, p=p, maxmem=maxmem, dklen=dklen)


@dataclass(frozen=True)
class ScryptHash:
    log_n: int
    r: int
    p: int
    salt: bytes
    key: bytes

    def encode(self) -> str:
        return f"$scrypt$ln={self.log_n},r={self.r},p={self.p}${b64(self.salt)}${b64(self.key)}"

    def invalid(self) -> str | None:
        """Why the hash cannot be an scrypt hash at all, for the operator; None if it can."""
        if self.log_n < 1:
            return "scrypt N is under 2"
        if self.r < 1 or self.p < 1:
            return "scrypt r and p must be at least 1"
        if len(self.key) < MIN_KEY_BYTES:
            return f"scrypt key length {len(self.key)} bytes is under {MIN_KEY_BYTES}"
        return None

    def too_costly(self) -> str | None:
        """Which parameter makes checking the hash cost more than authgate spends; None if none."""
        if self.r > MAX_R:
            return f"scrypt r {self.r} is above the bound of {MAX_R}"
        if self.p > MAX_P:
            return f"scrypt p {self.p} is above the bound of {MAX_P}"
        if self.log_n > MAX_LOG_N:
            return f"scrypt N 2^{self.log_n} is above the bound of 2^{MAX_LOG_N}"
        n = 2**self.log_n
        if 128 * n * self.r > MAX_MEMORY_BYTES:
            return f"scrypt memory 128·N·r = {128 * n * self.r} bytes is above the bound of {MAX_MEMORY_BYTES}"
        if n * self.r * self.p > MAX_NRP:
            return f"scrypt N·r·p = {n * self.r * self.p} is above the bound of {MAX_NRP}"
        if len(self.salt) > MAX_SALT_BYTES:
            return f"scrypt salt length {len(self.salt)} bytes is above the bound of {MAX_SALT_BYTES}"
        if len(self.key) > MAX_KEY_BYTES:
            return f"scrypt key length {len(self.key)} bytes is above the bound of {MAX_KEY_BYTES}"
        return None


def decode(stored: str) -> ScryptHash | None:
    """The canonical string's parts, None if it is not one."""
    match = _STORED.fullmatch(stored)
    if match is None:
        return None
    salt, key = unb64(match[4]), unb64(match[5])
    if salt is None or key is None:
        return None
    return ScryptHash(int(match[1]), int(match[2]), int(match[3]), salt, key)


@dataclass(frozen=True)
class ScryptScheme:
    name: str = "scrypt"

    def verify(self, password: str, stored: str) -> bool:
        found, secret = decode(stored), utf8(password)
        if found is None or secret is None or found.invalid() or found.too_costly():
            return False
        try:
            derived = _scrypt(secret, found.salt, found.log_n, found.r, found.p, len(found.key))
        except (ValueError, MemoryError):  # OpenSSL refused the parameters after all
            return False
        return same(derived, found.key)


@dataclass(frozen=True)
class FirebaseHash:
    rounds: int
    mem_cost: int
    salt: bytes
    separator: bytes
    signer_key: bytes
    hash: bytes

    def encode(self) -> str:
        parts = (self.salt, self.separator, self.signer_key, self.hash)
        return f"$firebase-scrypt$r={self.rounds},m={self.mem_cost}$" + "$".join(b64(part) for part in parts)

    def invalid(self) -> str | None:
        """Why the hash cannot be a Firebase scrypt hash at all, for the operator; None if it can."""
        if self.rounds < 1:
            return f"firebase-scrypt rounds {self.rounds} is under 1"
        if self.mem_cost < 1:
            return f"firebase-scrypt memCost {self.mem_cost} is under 1"
        if not self.salt:
            return "firebase-scrypt salt is empty"
        if len(self.hash) != len(self.signer_key):  # AES-CTR keeps the length
            return "firebase-scrypt hash and signerKey differ in length"
        if len(self.hash) < MIN_KEY_BYTES:
            return f"firebase-scrypt hash length {len(self.hash)} bytes is under {MIN_KEY_BYTES}"
        return None

    def too_costly(self) -> str | None:
        """Which parameter makes checking the hash cost more than authgate spends; None if none."""
        if self.rounds > MAX_FIREBASE_ROUNDS:
            return f"firebase-scrypt rounds {self.rounds} is above the bound of {MAX_FIREBASE_ROUNDS}"
        if self.mem_cost > MAX_FIREBASE_MEM_COST:
            return f"firebase-scrypt memCost {self.mem_cost} is above the bound of {MAX_FIREBASE_MEM_COST}"
        if len(self.salt) + len(self.separator) > MAX_SALT_BYTES:
            return (
                f"firebase-scrypt salt and saltSeparator length {len(self.salt) + len(self.separator)} bytes "
                f"is above the bound of {MAX_SALT_BYTES}"
            )
        if len(self.hash) > MAX_KEY_BYTES:
            return f"firebase-scrypt hash length {len(self.hash)} bytes is above the bound of {MAX_KEY_BYTES}"
        return None


def decode_firebase(stored: str) -> FirebaseHash | None:
    """The canonical string's parts, None if it is not one."""
    match = _FIREBASE.fullmatch(stored)
    if match is None:
        return None
    parts = [unb64(match[i]) for i in range(3, 7)]
    salt, separator, signer_key, hashed = parts
    if salt is None or separator is None or signer_key is None or hashed is None:
        return None
    return FirebaseHash(int(match[1]), int(match[2]), salt, separator, signer_key, hashed)


@dataclass(frozen=True)
class FirebaseScryptScheme:
    name: str = "firebase-scrypt"

    def verify(self, password: str, stored: str) -> bool:
        found, secret = decode_firebase(stored), utf8(password)
        if found is None or secret is None or found.invalid() or found.too_costly():
            return False
        try:
            key = _scrypt(secret, found.salt + found.separator, found.mem_cost, found.rounds, 1, 32)
        except (ValueError, MemoryError):
            return False
        encryptor = Cipher(algorithms.AES(key), modes.CTR(bytes(16))).encryptor()
        return same(encryptor.update(found.signer_key) + encryptor.finalize(), found.hash)


SCRYPT = ScryptScheme()
FIREBASE_SCRYPT = FirebaseScryptScheme()
