"""Bodies of the multi-factor endpoints (`secret`, `verificationCode`, as authenticator-app clients send them;
the code under any of its names, see `TypedCode`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from authgate.http.schemas.accounts import CurrentPassword, LoginOptions, TypedCode


class SetupIn(TypedCode):
    """Optional: the current password or a current second factor's code, when the sign-in
    is not recent enough."""

    current_password: str | None = CurrentPassword


class TotpSetupOut(BaseModel):
    secret: str
    otpauth_url: str = Field(serialization_alias="otpauthUrl")
    qr_code_url: str = Field(serialization_alias="qrCodeUrl")


class EnableIn(TypedCode):
    """`secret` may be left out: the server holds the one setup issued; when given, it must be that one."""

    secret: str | None = Field(default=None, min_length=1, max_length=128)
    current_password: str | None = CurrentPassword


class EnableOut(BaseModel):
    message: str
    recovery_codes: list[str] = Field(serialization_alias="recoveryCodes")


class DisableIn(TypedCode):
    pass


class RenewCodesIn(TypedCode):
    """A current TOTP code or an unused recovery code (used up): the re-authentication."""


class RecoveryCodesOut(BaseModel):
    message: str
    recovery_codes: list[str] = Field(serialization_alias="recoveryCodes")


class VerifyIn(TypedCode):
    """A code (`code`, under any of its names), or a passkey's answer: the `challengeId` of
    `/mfa/passkey/options` and the browser's `credential.toJSON()`."""

    mfa_token: str = Field(alias="mfaToken", min_length=1, max_length=4096)
    method: Literal["totp", "recovery", "code", "passkey"] | None = None
    challenge_id: str | None = Field(default=None, alias="challengeId", min_length=1, max_length=128)
    credential: dict[str, Any] | None = None
    options: LoginOptions = Field(default_factory=LoginOptions)


class MessageOut(BaseModel):
    message: str
