"""Bodies of the one-time-code endpoints."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from authgate.http.schemas.accounts import CaptchaToken, CurrentPassword, FactorCode, In, LoginOptions
from authgate.http.schemas.users import UserOut

Channel = Literal["sms", "email"]
Purpose = Literal["login", "verify", "mfa"]


class OtpSendIn(In):
    channel: Channel
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=320)
    purpose: Purpose = "login"
    captcha_token: str | None = CaptchaToken


class OtpVerifyIn(In):
    channel: Channel
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=320)
    code: str = Field(max_length=32)
    purpose: Purpose = "login"
    mfa_token: str | None = Field(default=None, alias="mfaToken", max_length=4096)
    current_password: str | None = CurrentPassword  # re-authentication, for purpose "mfa"
    mfa_code: str | None = FactorCode
    options: LoginOptions = Field(default_factory=LoginOptions)


class OtpRemoveIn(In):
    verification_code: str = Field(alias="verificationCode", max_length=64)


class VerifiedOut(BaseModel):
    message: str
    user: UserOut


class FactorOut(BaseModel):
    message: str
    channel: str
