"""Typed domain errors with stable codes. No HTTP here: `http/problems.py` maps them."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    VALIDATION_FAILED = "validation_failed"
    INVALID_CREDENTIALS = "invalid_credentials"
    EMAIL_TAKEN = "email_taken"
    USERNAME_TAKEN = "username_taken"
    ID_TAKEN = "id_taken"
    INVALID_HASH = "invalid_hash"
    UNSUPPORTED_HASH = "unsupported_hash"
    HASH_COST_TOO_HIGH = "hash_cost_too_high"
    MFA_REQUIRED = "mfa_required"
    INVALID_MFA_CODE = "invalid_mfa_code"
    INVALID_TOKEN = "invalid_token"  # noqa: S105 (an error code, not a secret)
    TOKEN_EXPIRED = "token_expired"  # noqa: S105
    INVALID_CLIENT = "invalid_client"
    RATE_LIMITED = "rate_limited"
    ACCOUNT_LOCKED = "account_locked"
    ACCOUNT_DISABLED = "account_disabled"
    EMAIL_NOT_VERIFIED = "email_not_verified"
    REAUTHENTICATION_REQUIRED = "reauthentication_required"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    NOT_READY = "not_ready"
    INVALID_STATE = "invalid_state"
    OAUTH_DENIED = "oauth_denied"
    OAUTH_FAILED = "oauth_failed"
    PROVIDER_UNAVAILABLE = "provider_unavailable"
    IDENTITY_NOT_LINKED = "identity_not_linked"
    IDENTITY_TAKEN = "identity_taken"
    LAST_SIGN_IN_METHOD = "last_sign_in_method"
    PASSKEY_EXISTS = "passkey_exists"
    PASSKEY_LIMIT = "passkey_limit"
    CAPTCHA_FAILED = "captcha_failed"
    ROLE_EXISTS = "role_exists"
    ROLE_IN_USE = "role_in_use"
    TEMPORARILY_UNAVAILABLE = "temporarily_unavailable"
    HEADERS_TOO_LARGE = "headers_too_large"
    REQUEST_TIMEOUT = "request_timeout"
    INTERNAL_ERROR = "internal_error"
    # OAuth 2.0 errors of the OpenID provider's endpoints (RFC 6749 §5.2, RFC 6750 §3.1)
    INVALID_REQUEST = "invalid_request"
    INVALID_GRANT = "invalid_grant"
    INVALID_SCOPE = "invalid_scope"
    UNAUTHORIZED_CLIENT = "unauthorized_client"
    UNSUPPORTED_GRANT_TYPE = "unsupported_grant_type"
    INSUFFICIENT_SCOPE = "insufficient_scope"


# The HTTP status the API answers each code with: the constructors below take it from here, and
# the hosted error page, which shows a code on its own, answers with it too. (Two refusals keep
# their own: a link, a one-time code, an exchange code or a passkey challenge sent in a body that
# is not valid is a 400 `invalid_token`; the OAuth 2.0 endpoints give RFC 6749's status where
# they raise its codes.)
STATUS: dict[ErrorCode, int] = {
    ErrorCode.VALIDATION_FAILED: 400,
    ErrorCode.INVALID_CREDENTIALS: 401,
    ErrorCode.EMAIL_TAKEN: 409,
    ErrorCode.USERNAME_TAKEN: 409,
    ErrorCode.ID_TAKEN: 409,
    ErrorCode.INVALID_HASH: 400,
    ErrorCode.UNSUPPORTED_HASH: 400,
    ErrorCode.HASH_COST_TOO_HIGH: 400,
    ErrorCode.MFA_REQUIRED: 401,
    ErrorCode.INVALID_MFA_CODE: 401,
    ErrorCode.INVALID_TOKEN: 401,
    ErrorCode.TOKEN_EXPIRED: 401,
    ErrorCode.INVALID_CLIENT: 401,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.ACCOUNT_LOCKED: 429,
    ErrorCode.ACCOUNT_DISABLED: 403,
    ErrorCode.EMAIL_NOT_VERIFIED: 403,
    ErrorCode.REAUTHENTICATION_REQUIRED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.CONFLICT: 409,
    ErrorCode.PAYLOAD_TOO_LARGE: 413,
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: 415,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
    ErrorCode.NOT_READY: 503,
    ErrorCode.INVALID_STATE: 400,
    ErrorCode.OAUTH_DENIED: 400,
    ErrorCode.OAUTH_FAILED: 400,
    ErrorCode.PROVIDER_UNAVAILABLE: 502,
    ErrorCode.IDENTITY_NOT_LINKED: 409,
    ErrorCode.IDENTITY_TAKEN: 409,
    ErrorCode.LAST_SIGN_IN_METHOD: 409,
    ErrorCode.PASSKEY_EXISTS: 409,
    ErrorCode.PASSKEY_LIMIT: 409,
    ErrorCode.CAPTCHA_FAILED: 400,
    ErrorCode.ROLE_EXISTS: 409,
    ErrorCode.ROLE_IN_USE: 409,
    ErrorCode.TEMPORARILY_UNAVAILABLE: 503,
    ErrorCode.HEADERS_TOO_LARGE: 431,
    ErrorCode.REQUEST_TIMEOUT: 408,
    ErrorCode.INTERNAL_ERROR: 500,
    ErrorCode.INVALID_REQUEST: 400,
    ErrorCode.INVALID_GRANT: 400,
    ErrorCode.INVALID_SCOPE: 400,
    ErrorCode.UNAUTHORIZED_CLIENT: 400,
    ErrorCode.UNSUPPORTED_GRANT_TYPE: 400,
    ErrorCode.INSUFFICIENT_SCOPE: 403,
}


def status_of(code: str | None) -> int | None:
    """The status the API answers the problem code `code` with; None for a code it never sends."""
    try:
        return STATUS.get(ErrorCode(code)) if code else None
    except ValueError:
        return None


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


@dataclass
class AuthError(Exception):
    """Base of every error a service raises on purpose."""

    code: ErrorCode
    status: int
    title: str
    detail: str | None = None
    errors: list[FieldError] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.code}: {self.detail or self.title}"


def problem(code: ErrorCode, title: str, detail: str | None = None, **fields: Any) -> AuthError:
    """An error with the status its code has everywhere (`STATUS`)."""
    return AuthError(code, STATUS[code], title, detail, **fields)


def validation_failed(*errors: FieldError, detail: str = "The request has invalid fields.") -> AuthError:
    return problem(ErrorCode.VALIDATION_FAILED, "Validation failed", detail, errors=list(errors))


def invalid_credentials(detail: str = "Invalid credentials.") -> AuthError:
    """A wrong password or PIN (or sign-in code), wherever it is entered: signing in, or a
    signed-in user confirming the current one. One answer everywhere: 401 `invalid_credentials`."""
    return problem(ErrorCode.INVALID_CREDENTIALS, "Invalid credentials", detail)


def invalid_token(detail: str = "The token is missing, malformed or not valid.") -> AuthError:
    return problem(
        ErrorCode.INVALID_TOKEN,
        "Invalid token",
        detail,
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


def token_expired() -> AuthError:
    return problem(
        ErrorCode.TOKEN_EXPIRED,
        "Token expired",
        "The token has expired.",
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


def invalid_client() -> AuthError:
    """A service's credential is missing, wrong or revoked (token introspection). The `error`
    member is what OAuth 2.0 clients read (RFC 6749 §5.2)."""
    return problem(
        ErrorCode.INVALID_CLIENT,
        "Invalid client",
        "Client authentication failed: send a valid service credential.",
        extra={"error": "invalid_client"},
        headers={"WWW-Authenticate": 'Basic realm="authgate"'},
    )


def oauth_error(code: ErrorCode, detail: str, status: int = 400, headers: dict[str, str] | None = None) -> AuthError:
    """An OAuth 2.0 error: the problem document with RFC 6749's `error` and
    `error_description` beside it, so OAuth clients and problem readers both understand it."""
    title = code.value.replace("_", " ").capitalize()
    return AuthError(
        code, status, title, detail, extra={"error": code.value, "error_description": detail}, headers=headers or {}
    )


def conflict(code: ErrorCode, field_name: str, message: str) -> AuthError:
    return problem(code, "Conflict", message, errors=[FieldError(field_name, message)])


def unsupported_media_type(detail: str) -> AuthError:
    return problem(ErrorCode.UNSUPPORTED_MEDIA_TYPE, "Unsupported media type", detail)


def forbidden(detail: str = "You may not do this.") -> AuthError:
    return problem(ErrorCode.FORBIDDEN, "Forbidden", detail)


def not_found(detail: str = "Not found.") -> AuthError:
    return problem(ErrorCode.NOT_FOUND, "Not found", detail)


def account_disabled() -> AuthError:
    # Same answer as a wrong password would leak less, but a disabled user who typed the right
    # password deserves to know; we only say it after the password was verified.
    return problem(ErrorCode.ACCOUNT_DISABLED, "Account disabled", "This account is disabled.")


def email_not_verified() -> AuthError:
    return problem(
        ErrorCode.EMAIL_NOT_VERIFIED,
        "Email not verified",
        "Verify your email address before signing in.",
    )


def mfa_required(mfa_token: str, methods: list[str]) -> AuthError:
    """The first factor was right; `mfaToken` lets `/mfa/verify` finish with a second one."""
    return problem(
        ErrorCode.MFA_REQUIRED,
        "MFA required",
        "Enter a code from your second factor to finish signing in.",
        extra={"mfaToken": mfa_token, "mfaMethods": methods},
    )


def invalid_mfa_code() -> AuthError:
    """A wrong second-factor code, wherever one is entered: signing in, turning a factor on or
    off, re-authenticating. One answer everywhere: 401 `invalid_mfa_code`."""
    return problem(ErrorCode.INVALID_MFA_CODE, "Invalid MFA code", "The code is not correct, or it was already used.")


def reauthentication_required(detail: str = "Sign in again, or confirm with your current password.") -> AuthError:
    """A sensitive change needs a recent sign-in, or proof in the same request."""
    return problem(ErrorCode.REAUTHENTICATION_REQUIRED, "Reauthentication required", detail)


def second_factor_unavailable() -> AuthError:
    """Every second factor the account has goes through the channel the first one used."""
    return forbidden(
        "Your second factor comes through the same channel as this way of signing in; "
        "sign in with your password instead."
    )


# --- abuse protection ------------------------------------------------------------------------


def _seconds(value: float) -> str:
    return str(max(1, math.ceil(value)))


def rate_limited(*, retry_after: float, limit: int) -> AuthError:
    """Over a rate limit: when to come back, and the limit that was reached (RateLimit-*)."""
    wait = _seconds(retry_after)
    return problem(
        ErrorCode.RATE_LIMITED,
        "Too many requests",
        f"Too many requests. Try again in {wait} seconds.",
        headers={
            "Retry-After": wait,
            "RateLimit-Limit": str(limit),
            "RateLimit-Remaining": "0",
            "RateLimit-Reset": wait,
        },
    )


def account_locked(retry_after: float) -> AuthError:
    """Too many failed sign-ins for this account (or this identifier, known or not)."""
    wait = _seconds(retry_after)
    return problem(
        ErrorCode.ACCOUNT_LOCKED,
        "Account locked",
        f"Too many failed sign-ins. Try again in {wait} seconds.",
        headers={"Retry-After": wait},
    )


def temporarily_unavailable(detail: str) -> AuthError:
    return problem(ErrorCode.TEMPORARILY_UNAVAILABLE, "Temporarily unavailable", detail, headers={"Retry-After": "5"})


def captcha_failed(detail: str = "Solve the CAPTCHA and send its token as captchaToken.") -> AuthError:
    return problem(ErrorCode.CAPTCHA_FAILED, "CAPTCHA failed", detail)


# --- signing in through a provider ------------------------------------------------------------


def invalid_state() -> AuthError:
    """The callback's `state` is missing, unknown, used, expired, or was started in another browser."""
    return problem(
        ErrorCode.INVALID_STATE,
        "Invalid sign-in state",
        "This sign-in was not started in this browser, was already finished, or has expired. Start again.",
    )


def oauth_denied(reason: str) -> AuthError:
    """The provider sent the person back without a sign-in (consent denied, say)."""
    return problem(ErrorCode.OAUTH_DENIED, "Sign-in not completed", f"The provider did not sign you in ({reason}).")


def oauth_failed(detail: str) -> AuthError:
    """The provider's answer cannot be used: a refused code, an identity token that does not verify."""
    return problem(ErrorCode.OAUTH_FAILED, "Sign-in failed", detail)


def provider_unavailable(detail: str) -> AuthError:
    return problem(ErrorCode.PROVIDER_UNAVAILABLE, "Provider unavailable", detail)


def identity_not_linked() -> AuthError:
    """An account has this email, but the identity is not linked to it: never taken over on it."""
    return problem(
        ErrorCode.IDENTITY_NOT_LINKED,
        "Account exists",
        "An account with this email address exists. Sign in to it another way, then link this provider.",
    )


def identity_taken(detail: str) -> AuthError:
    return problem(ErrorCode.IDENTITY_TAKEN, "Already linked", detail)


def last_sign_in_method() -> AuthError:
    return problem(
        ErrorCode.LAST_SIGN_IN_METHOD,
        "Last way to sign in",
        "This is the only way to sign in to this account. Set a password (password/forgot) or link "
        "another provider first.",
    )


class WrongSecret(Exception):
    """A secret was checked and was wrong. The sign-in gate records the failure against the
    account (`services/signin.counting`), then the public `error` leaves."""

    def __init__(self, error: AuthError, *, user_id: str | None, method: str) -> None:
        super().__init__(error.code.value)
        self.error = error
        self.user_id = user_id
        self.method = method


# A message a service gives that a page may show: the English text (what the API sends) that
# also keeps its gettext message and numbers apart, so that a page translates the message and
# puts the numbers back (`Password must be at least %(minimum)s characters.`).


class Said(str):
    """The English text, with the message it was made from and its values."""

    message: str
    values: dict[str, Any]


def said(message: str, **values: Any) -> Said:
    """`message` with `values` filled in (`%(name)s`); the catalogue extracts `said("…")`."""
    text = Said(message % values if values else message)
    text.message = message
    text.values = values
    return text
