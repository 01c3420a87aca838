"""Bodies of the multi-factor endpoints (`secret`, `verificationCode`, as authenticator-app clients send them)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from authgate.http.schemas.accounts import CurrentPassword, FactorCode, In, LoginOptions

Code = Field(min_length=1, max_length=64)


class SetupIn(In):
    """Optional: the current password or a current second factor's code, when the sign-in
    is not recent enough."""

    current_password: str | None = CurrentPassword
    mfa_code: str | None = FactorCode


class TotpSetupOut(BaseModel):
    secret: str
    otpauth_url: str = Field(serialization_alias="otpauthUrl")
    qr_code_url: str = Field(serialization_alias="qrCodeUrl")


class EnableIn(In):
    secret: str = Field(min_length=1, max_length=128)
    verification_code: str = Field(alias="verificationCode", min_length=1, max_length=64)
    current_password: str | None = CurrentPassword
    mfa_code: str | None = FactorCode


class EnableOut(BaseModel):
    message: str
    recovery_codes: list[str] = Field(serialization_alias="recoveryCodes")


class DisableIn(In):
    verification_code: str = Field(alias="verificationCode", min_length=1, max_length=64)


class VerifyIn(In):
    mfa_token: str = Field(alias="mfaToken", min_length=1, max_length=4096)
    code: str = Code
    method: Literal["totp", "recovery", "code"] | None = None
    options: LoginOptions = Field(default_factory=LoginOptions)


class MessageOut(BaseModel):
    message: str
