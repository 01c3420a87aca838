"""Bodies of register, login and profile update."""

from __future__ import annotations

import unicodedata

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from authgate.http.schemas.users import UserOut
from authgate.security.passwords import MAX_PASSWORD_CHARS

Password = Field(default=None, max_length=MAX_PASSWORD_CHARS)
CONTROL_CATEGORIES = frozenset({"Cc", "Cf"})  # C0/C1 controls, and format characters such as U+202E


def has_control_characters(value: str) -> bool:
    # isprintable() is False for every Cc and Cf character: a fast path for ordinary text.
    return not value.isprintable() and any(unicodedata.category(ch) in CONTROL_CATEGORIES for ch in value)


def strip_control_characters(value: str) -> str:
    if not has_control_characters(value):
        return value
    return "".join(ch for ch in value if unicodedata.category(ch) not in CONTROL_CATEGORIES)


class In(BaseModel):
    """Request bodies: strict types (a number is not a string), unknown fields ignored."""

    model_config = ConfigDict(strict=True, populate_by_name=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value: object) -> object:
        """No field we take needs them, and they do harm: NUL is refused by PostgreSQL (a 500),
        and invisible ones (U+202E reverses text) let a name pose as another in a UI or log.
        Raised per field, so the problem document names the field as the client spelled it."""
        if isinstance(value, str) and has_control_characters(value):
            raise PydanticCustomError("control_characters", "Control characters are not allowed.")
        return value


class RegisterOptions(In):
    set_cookie: bool = Field(default=False, alias="setCookie")
    verify_email: bool = Field(default=False, alias="verifyEmail")
    send_reset_email: bool = Field(default=False, alias="sendResetEmail")
    send_email: bool = Field(default=False, alias="sendEmail")
    send_sms: bool = Field(default=False, alias="sendSms")


class RegisterIn(In):
    email: str = Field(max_length=320)
    password: str | None = Password
    name: str | None = Field(default=None, max_length=1000)
    username: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=40)
    options: RegisterOptions = Field(default_factory=RegisterOptions)


class LoginOptions(In):
    set_cookie: bool = Field(default=True, alias="setCookie")


class LoginIn(In):
    email: str | None = Field(default=None, max_length=320)
    username: str | None = Field(default=None, max_length=200)
    name: str | None = Field(default=None, max_length=200)
    password: str | None = Password
    pin: str | None = Password
    mfa_code: str | None = Field(default=None, alias="mfaCode", max_length=64)
    captcha_token: str | None = Field(default=None, alias="captchaToken", max_length=4096)
    options: LoginOptions = Field(default_factory=LoginOptions)


class UpdateUserIn(In):
    name: str | None = Field(default=None, max_length=1000)
    username: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=40)
    password: str | None = Password
    current_password: str | None = Field(default=None, alias="currentPassword", max_length=MAX_PASSWORD_CHARS)
    mfa_code: str | None = Field(default=None, alias="mfaCode", max_length=64)


class LoginOut(BaseModel):
    message: str
    token: str
    access_token: str = Field(serialization_alias="accessToken")
    refresh_token: str | None = Field(serialization_alias="refreshToken")
    token_type: str = Field(default="Bearer", serialization_alias="tokenType")
    expires_in: int = Field(serialization_alias="expiresIn")
    user: UserOut
    name: str | None
    email: str


class RegisteredOut(BaseModel):
    """Register's answer when no session may start yet (the address must be verified first)."""

    message: str
    user: UserOut
    name: str | None
    email: str
