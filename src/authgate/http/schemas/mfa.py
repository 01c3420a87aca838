"""Bodies of the multi-factor endpoints (seed 000's field names: `secret`, `verificationCode`)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from authgate.http.schemas.accounts import In, LoginOptions

Code = Field(min_length=1, max_length=64)


class TotpSetupOut(BaseModel):
    secret: str
    otpauth_url: str = Field(serialization_alias="otpauthUrl")
    qr_code_url: str = Field(serialization_alias="qrCodeUrl")


class EnableIn(In):
    secret: str = Field(min_length=1, max_length=128)
    verification_code: str = Field(alias="verificationCode", min_length=1, max_length=64)


class EnableOut(BaseModel):
    message: str
    recovery_codes: list[str] = Field(serialization_alias="recoveryCodes")


class DisableIn(In):
    verification_code: str = Field(alias="verificationCode", min_length=1, max_length=64)


class VerifyIn(In):
    mfa_token: str = Field(alias="mfaToken", min_length=1, max_length=4096)
    code: str = Code
    options: LoginOptions = Field(default_factory=LoginOptions)


class MessageOut(BaseModel):
    message: str
