"""Opaque secrets (links, codes' tokens, refresh tokens, mfaTokens): random, and stored only as
a digest, so a database leak reveals none."""

from __future__ import annotations

import base64
import hashlib
import secrets


def random_token(nbytes: int = 32) -> str:
    """A URL-safe random secret of `nbytes` bytes (32 bytes = 256 bits)."""
    return secrets.token_urlsafe(nbytes)


def digest(token: str) -> str:
    """How a one-time secret is stored: its SHA-256, so a database leak reveals no token."""
    return base64.urlsafe_b64encode(hashlib.sha256(token.encode("utf-8")).digest()).decode("ascii").rstrip("=")
