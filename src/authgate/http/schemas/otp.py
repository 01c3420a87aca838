"""Bodies of the one-time-code endpoints."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from authgate.http.schemas.accounts import CaptchaToken, CurrentPassword, In, LoginOptions, TypedCode
from authgate.http.schemas.users import UserOut

Channel = Literal["sms", "email"]
Purpose = Literal["login", "verify", "mfa"]


class OtpSendIn(In):
    channel: Channel
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=320)
    purpose: Purpose = "login"
    captcha_token: str | None = CaptchaToken


class OtpVerifyIn(TypedCode):
    """`mfaCode` re-authenticates (enrolling a factor) when the code comes as `code` or `verificationCode`."""

    channel: Channel
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=320)
    purpose: Purpose = "login"
    mfa_token: str | None = Field(default=None, alias="mfaToken", max_length=4096)
    current_password: str | None = CurrentPassword  # re-authentication, for purpose "mfa"
    options: LoginOptions = Field(default_factory=LoginOptions)


class OtpRemoveIn(TypedCode):
    pass


class VerifiedOut(BaseModel):
    message: str
    user: UserOut


class FactorOut(BaseModel):
    message: str
    channel: str
