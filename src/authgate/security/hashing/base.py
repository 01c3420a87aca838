"""What every hash scheme is, and why an imported hash is refused.

A scheme checks a password against a hash it stores in one canonical string (`stored`). The
stored string never leaves the server: no answer or log shows a hash, a salt or a parameter."""

from __future__ import annotations

import hmac
from typing import Protocol

MAX_PASSWORD_BYTES_PLAIN_BCRYPT = 72  # bcrypt reads no further; the `bcrypt` package refuses longer input


class Scheme(Protocol):
    """One hash scheme: its name, as kept beside each hash, and how a password is checked."""

    @property
    def name(self) -> str:
        """As kept beside each hash (`users.password_scheme`)."""
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


def same(a: bytes, b: bytes) -> bool:
    """Constant-time comparison of two derived keys."""
    return hmac.compare_digest(a, b)
