"""Bodies of register, login and profile update."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from authgate.errors import FieldError, validation_failed
from authgate.http.schemas.users import UserOut
from authgate.security.passwords import MAX_PASSWORD_CHARS
from authgate.security.text import has_control_characters

Password = Field(default=None, max_length=MAX_PASSWORD_CHARS)
# Re-authentication in the same request (docs/mfa.md): the current password, or a current
# second factor's code.
CurrentPassword = Field(default=None, alias="currentPassword", max_length=MAX_PASSWORD_CHARS)
# A CAPTCHA solution (docs/abuse-protection.md); the route guard reads it, the header may carry it instead.
CaptchaToken = Field(default=None, alias="captchaToken", max_length=4096)


class In(BaseModel):
    """Request bodies: strict types (a number is not a string), unknown fields ignored."""

    model_config = ConfigDict(strict=True, populate_by_name=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value: object) -> object:
        """Free text without control characters (security/text.py). Raised per field, so the
        problem document names the field as the client spelled it."""
        if isinstance(value, str) and has_control_characters(value):
            raise PydanticCustomError("control_characters", "Control characters are not allowed.")
        return value


class TypedCode(In):
    """A body that carries a code a person types (an authenticator's, a recovery code, one
    sent by SMS or email). The compatible APIs name it `mfaCode`, `code` or
    `verificationCode`; every such body takes it under any of the three (docs/api-conventions.md)."""

    code: str | None = Field(default=None, max_length=64)
    verification_code: str | None = Field(default=None, alias="verificationCode", max_length=64)
    mfa_code: str | None = Field(default=None, alias="mfaCode", max_length=64)

    def typed_code(self) -> str | None:
        """The code, under whichever name it came (`code`, then `verificationCode`, then `mfaCode`)."""
        return self.code or self.verification_code or self.mfa_code or None

    def required_code(self, name: str) -> str:
        """The code, or a 400 naming the field (`name`) when the body has none under any name."""
        value = self.typed_code()
        if value is None:
            raise validation_failed(FieldError(name, "Enter the code."))
        return value

    def reauthentication_code(self) -> str | None:
        """Where a body checks one code and may also re-authenticate with a current second
        factor's: `mfaCode` is that second code when the first came as `code` or
        `verificationCode`."""
        return self.mfa_code if (self.code or self.verification_code) else None


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
    captcha_token: str | None = CaptchaToken
    options: RegisterOptions = Field(default_factory=RegisterOptions)


class LoginOptions(In):
    set_cookie: bool = Field(default=True, alias="setCookie")


class LoginIn(TypedCode):
    email: str | None = Field(default=None, max_length=320)
    username: str | None = Field(default=None, max_length=200)
    name: str | None = Field(default=None, max_length=200)
    password: str | None = Password
    pin: str | None = Password
    captcha_token: str | None = CaptchaToken
    options: LoginOptions = Field(default_factory=LoginOptions)


class UpdateUserIn(TypedCode):
    """`PUT /user` and `PUT /user/{id}`. The admin fields need `users:write` when they differ
    from the stored values; the read-only fields of the user object (`caps`, `id`, …) are
    ignored, so a client may send back the object it read."""

    name: str | None = Field(default=None, max_length=1000)
    username: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=40)
    password: str | None = Password
    current_password: str | None = CurrentPassword
    role: str | None = Field(default=None, max_length=64)
    disabled: bool | None = None
    email_verified: bool | None = Field(default=None, alias="emailVerified")
    phone_verified: bool | None = Field(default=None, alias="phoneVerified")


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


class CreateUserIn(In):
    """`POST /user` (`users:write`): an account made by an administrator."""

    email: str = Field(max_length=320)
    password: str | None = Password
    name: str | None = Field(default=None, max_length=1000)
    username: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=40)
    role: str = Field(default="user", max_length=64)
    email_verified: bool = Field(default=False, alias="emailVerified")
    disabled: bool = False


class DeleteUserIn(TypedCode):
    """Deleting one's own account re-authenticates unless the sign-in is recent."""

    current_password: str | None = CurrentPassword
