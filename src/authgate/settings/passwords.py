"""What a password must be, how it is hashed, and whether an address must be verified first."""

from __future__ import annotations

from pydantic import Field

from authgate.settings.base import Section


class PasswordSettings(Section):
    bcrypt_rounds: int = Field(default=12, ge=4, le=31)
    """bcrypt cost (4 to 31)."""
    password_min_length: int = Field(default=8, ge=1, le=128)
    """The shortest password accepted."""
    password_require_mixed: bool = True
    """Require an upper-case letter, a lower-case letter and a digit."""
    password_block_common: bool = True
    """Refuse the 30,000 most common passwords (case-insensitive)."""
    require_email_verification: bool = False
    """No session starts until the address is verified: login answers 403 `email_not_verified`, and `POST /register`
    answers 201 without tokens or cookies and sends the verification link (docs/email-and-codes.md)."""
