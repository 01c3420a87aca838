"""Recovery codes: single-use lookup secrets shown once when MFA is enabled.

Each has 80 random bits (16 base32 characters, shown in four groups), above NIST SP 800-63B's
64-bit floor for lookup secrets kept as plain hashes, so a database leak does not let anyone
guess them. They are stored as a digest bound to the user id.
"""

from __future__ import annotations

import base64
import secrets

from authgate.security.opaque import digest

COUNT = 10
_GROUP = 4


def new_codes(count: int = COUNT) -> list[str]:
    """`count` fresh codes like `k7qp-3xwm-c2ra-9vtd` (lower case, no padding)."""
    codes = []
    for _ in range(count):
        raw = base64.b32encode(secrets.token_bytes(10)).decode("ascii").lower()
        codes.append("-".join(raw[i : i + _GROUP] for i in range(0, len(raw), _GROUP)))
    return codes


def normalize(code: str) -> str:
    """What the user typed, without spaces, dashes or case: `K7QP 3XWM-c2ra9vtd` counts."""
    return "".join(ch for ch in code.lower() if ch not in " -\t")


def code_digest(user_id: str, code: str) -> str:
    """The stored form: SHA-256 of the user id and the normalised code (codes are per user)."""
    return digest(f"{user_id}:{normalize(code)}")


def looks_like_code(code: str) -> bool:
    value = normalize(code)
    return len(value) == 16 and all(ch in "abcdefghijklmnopqrstuvwxyz234567" for ch in value)
