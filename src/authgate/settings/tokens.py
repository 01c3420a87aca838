"""Access and refresh tokens, signing keys, and the key for secrets kept at rest."""

from __future__ import annotations

from pydantic import AliasChoices, Field

from authgate.settings.base import Section
from authgate.settings.types import JwtAlgorithm


class TokenSettings(Section):
    # JWT_SECRET and JWT_EXPIRATION_MS are read without the AUTHGATE_ prefix (`env_name` knows them).
    jwt_secret: str = Field(validation_alias=AliasChoices("JWT_SECRET"), min_length=32, repr=False)
    """HS256 signing secret, at least 32 characters; also the source of derived keys when `AUTHGATE_ENCRYPTION_KEY` is
    unset."""
    jwt_expiration_ms: int = Field(default=900_000, validation_alias=AliasChoices("JWT_EXPIRATION_MS"), gt=0)
    """Access-token lifetime in milliseconds."""
    jwt_audience: str = "authgate"
    """The `aud` claim minted and required."""
    jwt_algorithm: JwtAlgorithm = "HS256"
    """How access tokens are signed: `HS256` with `JWT_SECRET`, or `EdDSA`, `ES256`, `RS256` with key pairs kept
    (sealed) in the database and published at `/.well-known/jwks.json` (docs/signing-keys.md)."""
    key_rotation_seconds: int = Field(default=0, ge=0)
    """Under an asymmetric algorithm, make a new signing key when the current one is this old; `0`: only `authgate keys
    rotate`."""
    key_grace_seconds: int = Field(default=3600, ge=0)
    """How long a retired signing key still verifies and is published; keep it at least the access-token lifetime."""
    refresh_token_ttl_seconds: int = Field(default=2_592_000, gt=0)
    """Refresh-token and session lifetime, renewed by each refresh up to the session's absolute end."""
    refresh_reuse_grace_seconds: int = Field(default=10, ge=0)
    """A just-rotated refresh token still returns the same new pair this long; after it, presenting any refresh token
    the session rotated out ends the session; `0` turns the grace off (docs/sessions.md)."""
    session_max_seconds: int = Field(default=7_776_000, gt=0)
    """A session's absolute end, counted from its sign-in, whatever the refreshes (docs/sessions.md)."""
    reauth_max_age_seconds: int = Field(default=300, ge=0)
    """How old the session's latest proof (its sign-in or its latest re-authentication) may be for a sensitive change
    (a factor, the phone, linking a provider, deleting one's account, adding or deleting a passkey); otherwise the
    request sends `currentPassword` (or a current factor's `mfaCode`) or spends a re-authentication of the last 5
    minutes, else 401 `reauthentication_required` (docs/mfa.md); `0` asks for a proof with each change."""

    @property
    def access_ttl_seconds(self) -> int:
        return max(1, self.jwt_expiration_ms // 1000)


class EncryptionSettings(Section):
    encryption_key: str | None = Field(default=None, repr=False)
    """Key material for secrets kept at rest (AES-256-GCM): TOTP seeds, signing keys, webhook secrets, message bodies in
    the outbox; unset: derived from `JWT_SECRET` (HKDF)."""
