"""What every hash scheme is, and why an imported hash is refused.

A scheme checks a password against a hash it stores in one canonical string (`stored`). The
stored string never leaves the server: no answer or log shows a hash, a salt or a parameter."""

from __future__ import annotations

import base64
import binascii
import hmac
import re
from typing import Protocol

MAX_PASSWORD_BYTES_PLAIN_BCRYPT = 72  # bcrypt reads no further; the `bcrypt` package refuses longer input

# Bounds every stored hash keeps, whatever its family: checking must stay cheap and bounded.
MAX_HASH_CHARS = 1024
MAX_SALT_BYTES = 1024
MIN_KEY_BYTES = 16  # under it a derived key is too short to be a real hash of the scheme
MAX_KEY_BYTES = 128

_B64 = re.compile(r"[A-Za-z0-9+/]*={0,2}", re.ASCII)


class Scheme(Protocol):
    """One hash scheme: its name, as kept beside each hash, and how a password is checked."""

    @property
    def name(self) -> str:
        """As kept beside each hash (`users.password_scheme`); read-only, so that frozen dataclasses fit."""
        ...

    def verify(self, password: str, stored: str) -> bool:
        """Whether `password` opens `stored`; False, never an exception, for a hash that does
        not parse (a damaged row must not turn a login into a 500)."""
        ...


class Refused(Exception):
    """An imported hash that cannot be stored: `code` is `invalid_hash`, `unsupported_hash`,
    `hash_cost_too_high` or `validation_failed` (a missing field, named by `field`, a dotted
    path under `password`). `detail` is for the operator and names no secret."""

    def __init__(self, code: str, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.field = field


def b64(data: bytes) -> str:
    """Standard base64 without padding, as every canonical stored string writes it."""
    return base64.b64encode(data).decode("ascii").rstrip("=")


def unb64(text: str) -> bytes | None:
    """Standard base64 with padding or none; None for anything else (other characters, a
    length no encoding gives)."""
    if not _B64.fullmatch(text):
        return None
    body = text.rstrip("=")
    if len(body) % 4 == 1:
        return None
    try:
        return base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
    except binascii.Error:
        return None


def utf8(password: str) -> bytes | None:
    """The password's UTF-8 bytes; None for a string that has none (a lone surrogate, which
    no hash was ever made of)."""
    try:
        return password.encode("utf-8")
    except UnicodeEncodeError:
        return None


def same(a: bytes, b: bytes) -> bool:
    """Constant-time comparison of two derived keys."""
    return hmac.compare_digest(a, b)
