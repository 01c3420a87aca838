"""What a password must be, how it is hashed, and whether an address must be verified first."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, model_validator

from authgate.settings.base import Section, field_error
from authgate.settings.types import Lower

# An argon2 setting must stay within what an import accepts (security/hashing/formats.py), so
# that one authgate's hashes always import into another.
ARGON2_MAX_MEMORY_TIMES_PASSES = 1_048_576


class PasswordSettings(Section):
    password_hash: Lower[Literal["bcrypt", "argon2id"]] = "bcrypt"  # noqa: S105 (a scheme's name)
    """The scheme of every new hash: `bcrypt` (cost `AUTHGATE_BCRYPT_ROUNDS`, over an HMAC-SHA256 of the password keyed
    by the bcrypt salt) or `argon2id` (recommended for new deployments). Stored hashes of another scheme or cost are
    replaced at their owner's next sign-in (docs/users.md#password-hashes)."""
    bcrypt_rounds: int = Field(default=12, ge=4, le=31)
    """bcrypt cost of new hashes (4 to 31); the start log warns below 10 and above 15."""
    argon2_memory_kib: int = Field(default=65536, ge=19456, le=262144)
    """argon2id memory per hash, in KiB (19456 to 262144; at least 47104 when the time cost is 1)."""
    argon2_time_cost: int = Field(default=3, ge=1, le=16)
    """argon2id passes (1 to 16); memory times passes may not exceed 1048576."""
    argon2_parallelism: int = Field(default=1, ge=1, le=16)
    """argon2id lanes (1 to 16); one lane keeps one hash per thread of the hashing pool."""
    password_min_length: int = Field(default=8, ge=1, le=128)
    """The shortest password accepted."""
    password_require_mixed: bool = True
    """Require an upper-case letter, a lower-case letter and a digit."""
    password_block_common: bool = True
    """Refuse the 30,000 most common passwords (case-insensitive)."""
    require_email_verification: bool = False
    """No session starts until the address is verified: login answers 403 `email_not_verified`, and `POST /register`
    answers 201 without tokens or cookies and sends the verification link (docs/email-and-codes.md)."""

    @model_validator(mode="after")
    def _check_argon2(self) -> Self:
        memory, passes = self.argon2_memory_kib, self.argon2_time_cost
        if passes == 1 and memory < 47104:  # OWASP's floor for a single pass
            raise field_error("argon2_memory_kib", "must be at least 47104 when AUTHGATE_ARGON2_TIME_COST is 1", memory)
        if memory * passes > ARGON2_MAX_MEMORY_TIMES_PASSES:
            message = (
                f"times AUTHGATE_ARGON2_TIME_COST must be at most {ARGON2_MAX_MEMORY_TIMES_PASSES} "
                "(the bound another authgate imports)"
            )
            raise field_error("argon2_memory_kib", message, memory)
        return self

    @property
    def password_hash_warning(self) -> str | None:
        """What the start log warns of in these settings, if anything."""
        if self.password_hash != "bcrypt":  # noqa: S105 (a scheme's name)
            return None
        if self.bcrypt_rounds < 10:
            return "AUTHGATE_BCRYPT_ROUNDS below 10 is too cheap outside tests"
        if self.bcrypt_rounds > 15:
            return "AUTHGATE_BCRYPT_ROUNDS above 15 makes a login cost seconds; another authgate refuses such hashes"
        return None
