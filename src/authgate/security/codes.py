"""Six-digit one-time codes, and how they are stored.

A plain SHA-256 of a 6-digit code is reversed by trying all million codes, so codes are stored
as HMAC-SHA256 under a server key (derived with HKDF from the configured secret under its own
label) and bound to their row id, so a stored value cannot be checked offline or moved to
another row.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

CODE_DIGITS = 6
CODE_RE = re.compile(r"^[0-9]{6}$")


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def normalize_code(raw: str) -> str | None:
    """Digits with spaces or dashes removed (people type `123 456`); None if not 6 digits."""
    value = re.sub(r"[\s-]", "", raw)
    return value if CODE_RE.match(value) else None


class CodeHasher:
    def __init__(self, key_material: str) -> None:
        self._key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"authgate one-time codes v1").derive(
            key_material.encode("utf-8")
        )

    def digest(self, code: str, *, bound_to: str) -> str:
        mac = hmac.new(self._key, f"{bound_to}:{code}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode("ascii").rstrip("=")

    def matches(self, code: str, stored: str, *, bound_to: str) -> bool:
        return hmac.compare_digest(self.digest(code, bound_to=bound_to), stored)
