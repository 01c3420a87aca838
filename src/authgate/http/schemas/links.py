"""Bodies of email verification, password reset and magic-link requests."""

from __future__ import annotations

from pydantic import BaseModel, Field

from authgate.http.schemas.accounts import CaptchaToken, In
from authgate.security.passwords import MAX_PASSWORD_CHARS
from authgate.security.redirects import MAX_LENGTH as MAX_REDIRECT_CHARS


class LinkRequestIn(In):
    email: str = Field(max_length=320)
    redirect_to: str | None = Field(default=None, alias="redirectTo", max_length=MAX_REDIRECT_CHARS)
    captcha_token: str | None = CaptchaToken


class MagicLinkIn(LinkRequestIn):
    """With a `codeChallenge` (a native app), the link ends in a code for the app (`POST /token`)."""

    code_challenge: str | None = Field(default=None, alias="codeChallenge", max_length=128)
    code_challenge_method: str | None = Field(default=None, alias="codeChallengeMethod", max_length=16)


class ResetIn(In):
    password: str = Field(max_length=MAX_PASSWORD_CHARS)


class MessageOut(BaseModel):
    message: str


class EmailVerifiedOut(BaseModel):
    message: str
    email_verified: bool = Field(serialization_alias="emailVerified")


class ResetValidOut(BaseModel):
    valid: bool
