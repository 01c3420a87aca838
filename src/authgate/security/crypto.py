"""Encryption of secrets kept at rest (TOTP seeds, webhook secrets, a rotated refresh token
during its grace window): AES-256-GCM from `cryptography`, never a hand-made cipher.

The key comes from AUTHGATE_ENCRYPTION_KEY, or is derived from JWT_SECRET with HKDF under a
distinct label, so the signing secret itself is never used as an encryption key.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

VERSION = "v1"


def derive_key(material: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"authgate at-rest encryption v1").derive(
        material.encode("utf-8")
    )


class SecretBox:
    """Seals short strings as `v1.<base64(nonce || ciphertext+tag)>`; `context` binds a
    ciphertext to its use (e.g. the user id), so one cannot be moved to another row."""

    def __init__(self, key_material: str) -> None:
        self._aead = AESGCM(derive_key(key_material))

    def seal(self, plaintext: str, context: str = "") -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode("utf-8"), context.encode("utf-8"))
        return f"{VERSION}.{base64.urlsafe_b64encode(nonce + sealed).decode('ascii')}"

    def open(self, token: str, context: str = "") -> str:
        """Decrypt; a tampered, truncated or foreign ciphertext raises ValueError."""
        version, _, body = token.partition(".")
        if version != VERSION:
            raise ValueError("unknown ciphertext version")
        try:
            raw = base64.urlsafe_b64decode(body.encode("ascii"))
            plain = self._aead.decrypt(raw[:12], raw[12:], context.encode("utf-8"))
        except (InvalidTag, ValueError) as exc:
            raise ValueError("ciphertext does not open") from exc
        return plain.decode("utf-8")
