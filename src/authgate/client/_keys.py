"""Where verification keys come from: the shared secret, or authgate's JWKS (`_jwks.py`).

A key is always used with its own algorithm only; the token's header never chooses one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

HS256 = "HS256"


@dataclass(frozen=True)
class VerifyingKey:
    kid: str  # "" for the shared secret, which a token's kid does not select
    algorithm: str
    key: Any  # the secret, or a `cryptography` public key


class KeySource(Protocol):
    async def key_for(self, kid: str | None) -> VerifyingKey:
        """The key a token with this `kid` header must verify under; raises AuthgateError."""

    def holds(self, kid: str) -> bool:
        """Whether the key named `kid` is still in the set (cached claims may be kept)."""

    def on_drop(self, listener: Callable[[set[str]], None]) -> None:
        """Call `listener(kids)` when keys leave the set."""


class SecretKey:
    """Secret mode: authgate's `JWT_SECRET`, HS256 only. Tokens from newer authgate versions
    name it with a `kid`, older ones do not; either way this one key is the only candidate."""

    def __init__(self, secret: str) -> None:
        self._key = VerifyingKey("", HS256, secret)

    async def key_for(self, kid: str | None) -> VerifyingKey:
        return self._key

    def holds(self, kid: str) -> bool:
        return True

    def on_drop(self, listener: Callable[[set[str]], None]) -> None:
        return None  # the secret never leaves
