"""Multi-factor authentication (docs/mfa.md)."""

from __future__ import annotations

from pydantic import Field

from authgate.settings.base import Section


class MfaSettings(Section):
    mfa_issuer: str = Field(default="authgate", min_length=1, max_length=64)
    """The issuer shown in authenticator apps (docs/mfa.md)."""
    mfa_token_ttl_seconds: int = Field(default=300, gt=0, le=3600)
    """Lifetime of an `mfaToken` (at most 3600)."""
    mfa_token_max_attempts: int = Field(default=5, ge=1, le=20)
    """Codes that may be tried with one `mfaToken`."""
