"""Bodies of the passkey endpoints. `options` is WebAuthn's JSON form of the ceremony's options
(binary fields base64url), for `PublicKeyCredential.parseCreationOptionsFromJSON()` /
`parseRequestOptionsFromJSON()`; `credential` is the browser's `credential.toJSON()`."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel, Field

from authgate.http.schemas.accounts import CurrentPassword, In, LoginOptions, TypedCode
from authgate.wire import iso_z

ChallengeId = Field(alias="challengeId", min_length=1, max_length=128)
Credential = Field(description="The browser's `credential.toJSON()`.")
PasskeyName = Field(min_length=1, max_length=100)


class ReauthIn(TypedCode):
    """Optional: the current password or a current second factor's code (`mfaCode`), when the
    sign-in is not recent enough."""

    current_password: str | None = CurrentPassword


class Started(Protocol):
    """A ceremony's start, as methods/passkey hands it over."""

    @property
    def challenge_id(self) -> str: ...
    @property
    def options(self) -> dict[str, Any]: ...
    @property
    def expires_at(self) -> datetime: ...


class OptionsOut(BaseModel):
    challenge_id: str = Field(serialization_alias="challengeId")
    options: dict[str, Any]
    expires_at: str = Field(serialization_alias="expiresAt")

    @classmethod
    def of(cls, started: Started) -> OptionsOut:
        return cls(challenge_id=started.challenge_id, options=started.options, expires_at=iso_z(started.expires_at))


class RegisterVerifyIn(In):
    challenge_id: str = ChallengeId
    credential: dict[str, Any] = Credential
    name: str | None = Field(default=None, min_length=1, max_length=100)


class RenameIn(In):
    name: str = PasskeyName


class LoginVerifyIn(In):
    challenge_id: str = ChallengeId
    credential: dict[str, Any] = Credential
    options: LoginOptions = Field(default_factory=LoginOptions)


class MfaOptionsIn(In):
    mfa_token: str = Field(alias="mfaToken", min_length=1, max_length=4096)


class Passkey(Protocol):
    """What the answer shows of a stored passkey (the edge reads no storage model)."""

    id: str
    name: str
    credential_id: str
    created_at: datetime
    last_used_at: datetime | None
    transports: str  # comma-separated
    aaguid: str
    backup_eligible: bool
    backed_up: bool


class PasskeyOut(BaseModel):
    """Never the public key or the counter."""

    id: str
    name: str
    credential_id: str = Field(serialization_alias="credentialId")
    created_at: str = Field(serialization_alias="createdAt")
    last_used_at: str | None = Field(serialization_alias="lastUsedAt")
    transports: list[str]
    aaguid: str
    backup_eligible: bool = Field(serialization_alias="backupEligible")
    backed_up: bool = Field(serialization_alias="backedUp")

    @classmethod
    def of(cls, passkey: Passkey) -> PasskeyOut:
        return cls(
            id=passkey.id,
            name=passkey.name,
            credential_id=passkey.credential_id,
            created_at=iso_z(passkey.created_at),
            last_used_at=iso_z(passkey.last_used_at) if passkey.last_used_at else None,
            transports=[t for t in passkey.transports.split(",") if t],
            aaguid=passkey.aaguid,
            backup_eligible=passkey.backup_eligible,
            backed_up=passkey.backed_up,
        )
