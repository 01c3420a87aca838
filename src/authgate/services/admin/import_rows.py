"""One row of a user import, checked on its own: every field, the password's format and bounds,
the authenticator seed and the linked identities. What needs the database (a taken address,
a role's capabilities) is `imports.py`'s. Nothing here runs a hash.

A row is a JSON object in camelCase. An unknown field fails the row, naming it (an export's
`email_verified` must not be dropped silently), and so does a row that carries a secret
(password, seed, identities) without saying whether its address is verified: imported as
unverified by accident, the owner's first magic link would wipe what came with it."""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from authgate.errors import ErrorCode, FieldError
from authgate.security.hashing import Refused, StoredHash
from authgate.security.hashing.formats import parse as parse_password
from authgate.security.identifiers import (
    email_key,
    normalize_email,
    normalize_phone,
    normalize_username,
    username_key,
)
from authgate.security.text import has_control_characters
from authgate.settings import PROVIDER_NAME
from authgate.signin.registration import NAME_MAX, check

FIELDS = frozenset(
    {
        "email",
        "emailVerified",
        "phoneVerified",
        "name",
        "username",
        "phone",
        "role",
        "disabled",
        "id",
        "createdAt",
        "password",
        "totpSecret",
        "identities",
    }
)
IDENTITY_FIELDS = frozenset({"provider", "subject", "email"})
SECRETS = ("password", "totpSecret", "identities")  # a row with any of them must say emailVerified
TOTP_MIN, TOTP_MAX = 16, 128
SUBJECT_MAX, ROLE_MAX, IDENTITY_EMAIL_MAX = 255, 64, 254


@dataclass(frozen=True)
class Identity:
    provider: str
    subject: str
    email: str | None


@dataclass(frozen=True)
class ImportRow:
    """A row that passed every check of its own."""

    email: str
    email_key: str
    email_verified: bool
    phone_verified: bool
    name: str | None
    username: str | None
    username_key: str | None
    phone: str | None
    role: str
    disabled: bool
    id: str | None
    created_at: datetime | None
    password: StoredHash | None
    totp_secret: str | None  # normalised base32
    identities: tuple[Identity, ...] = ()


@dataclass(frozen=True)
class RowFailure:
    code: str
    detail: str
    errors: list[FieldError] = field(default_factory=list)


def invalid(*errors: FieldError) -> RowFailure:
    return RowFailure(ErrorCode.VALIDATION_FAILED.value, "The row has invalid fields.", list(errors))


class _Fields:
    """Reads typed fields of one JSON object, collecting what is wrong."""

    def __init__(self, data: dict[str, Any], prefix: str = "") -> None:
        self.data, self.prefix = data, prefix
        self.errors: list[FieldError] = []

    def fail(self, name: str, message: str) -> None:
        self.errors.append(FieldError(f"{self.prefix}{name}", message))

    def text(self, name: str, *, limit: int, required: bool = False) -> str | None:
        value = self.data.get(name)
        if value is None:
            if required:
                self.fail(name, "This field is required.")
            return None
        if not isinstance(value, str):
            self.fail(name, "Must be a string.")
            return None
        if has_control_characters(value):
            self.fail(name, "Control characters are not allowed.")
            return None
        if len(value) > limit:
            self.fail(name, f"Must be at most {limit} characters.")
            return None
        return value

    def flag(self, name: str, *, required: bool = False) -> bool:
        value = self.data.get(name)
        if value is None:
            if required:
                self.fail(name, "Required (true or false) on a row with a password, an authenticator or identities.")
            return False
        if not isinstance(value, bool):
            self.fail(name, "Must be true or false.")
            return False
        return value

    def normalised(self, name: str, normalise: Any, raw: str | None) -> str | None:
        """`raw` normalised as registration does it (its message on a bad value)."""
        return check(self.errors, f"{self.prefix}{name}", normalise, raw) if raw is not None else None

    def unknown(self) -> None:
        for name in self.data:
            if name not in (IDENTITY_FIELDS if self.prefix else FIELDS):
                self.fail(name, "Unknown field.")


def _user_id(fields: _Fields) -> str | None:
    raw = fields.text("id", limit=36)
    if raw is None:
        return None
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        fields.fail("id", "Must be a UUID.")
        return None


def _created_at(fields: _Fields, now: datetime) -> datetime | None:
    raw = fields.text("createdAt", limit=40)
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None or "T" not in raw.upper():
        fields.fail("createdAt", "Must be an RFC 3339 time with its offset, e.g. 2024-05-01T12:00:00Z.")
        return None
    if moment > now:
        fields.fail("createdAt", "Must not be in the future.")
        return None
    return moment


def _totp_secret(fields: _Fields) -> str | None:
    raw = fields.text("totpSecret", limit=4 * TOTP_MAX)
    if raw is None:
        return None
    secret = "".join(raw.split()).upper().rstrip("=")
    if not TOTP_MIN <= len(secret) <= TOTP_MAX:
        fields.fail("totpSecret", f"Must be {TOTP_MIN} to {TOTP_MAX} base32 characters.")
        return None
    try:
        base64.b32decode(secret + "=" * (-len(secret) % 8))
    except (binascii.Error, ValueError):
        fields.fail("totpSecret", "Must be base32 (A-Z, 2-7).")
        return None
    return secret


def _identities(fields: _Fields) -> tuple[Identity, ...]:
    raw = fields.data.get("identities")
    if raw is None:
        return ()
    if not isinstance(raw, list):
        fields.fail("identities", "Must be a list.")
        return ()
    found: list[Identity] = []
    for i, item in enumerate(raw):
        where = f"identities[{i}]"
        if not isinstance(item, dict):
            fields.fail(where, "Must be an object.")
            continue
        own = _Fields(item, prefix=f"{where}.")
        own.unknown()
        provider = own.text("provider", limit=32, required=True)
        if provider is not None and not PROVIDER_NAME.fullmatch(provider):
            own.fail("provider", "Must be a provider's lower-case name (as in AUTHGATE_OAUTH_<NAME>).")
        subject = own.text("subject", limit=SUBJECT_MAX, required=True)
        if subject is not None and not subject.strip():
            own.fail("subject", "Must not be empty.")
        email = own.text("email", limit=IDENTITY_EMAIL_MAX)
        fields.errors.extend(own.errors)
        if own.errors or provider is None or subject is None:
            continue
        if any(other.provider == provider for other in found):
            fields.fail(f"{where}.provider", "One identity per provider.")
            continue
        found.append(Identity(provider, subject, email))
    return tuple(found)


def parse_row(data: object, now: datetime) -> ImportRow | RowFailure:
    """The row's fields checked and normalised as `POST /register` and `POST /user` do, or why
    it fails: field errors (`validation_failed`, dotted paths), or the refusal of its hash."""
    if not isinstance(data, dict):
        return RowFailure(ErrorCode.VALIDATION_FAILED.value, "The row is not a JSON object.")
    fields = _Fields(data)
    fields.unknown()
    raw_email = fields.text("email", limit=320, required=True)
    email = fields.normalised("email", normalize_email, raw_email)
    carries_secret = any(data.get(name) is not None for name in SECRETS)
    email_verified = fields.flag("emailVerified", required=carries_secret)
    phone_verified = fields.flag("phoneVerified")
    disabled = fields.flag("disabled")
    name = fields.text("name", limit=NAME_MAX)
    name = name.strip() or None if name is not None else None
    username = fields.normalised("username", normalize_username, fields.text("username", limit=64))
    phone = fields.normalised("phone", normalize_phone, fields.text("phone", limit=32))
    role = fields.text("role", limit=ROLE_MAX) or "user"
    user_id = _user_id(fields)
    created_at = _created_at(fields, now)
    totp_secret = _totp_secret(fields)
    identities = _identities(fields)
    password: StoredHash | None = None
    refused: Refused | None = None
    if data.get("password") is not None:
        try:
            password = parse_password(data["password"])
        except Refused as exc:
            if exc.code == ErrorCode.VALIDATION_FAILED.value:
                fields.errors.append(FieldError(exc.field or "password", exc.detail))
            else:
                refused = exc
    if fields.errors:
        return invalid(*fields.errors)
    if refused is not None:
        return RowFailure(refused.code, refused.detail)
    assert email is not None
    return ImportRow(
        email=email,
        email_key=email_key(email),
        email_verified=email_verified,
        phone_verified=phone_verified and phone is not None,
        name=name,
        username=username,
        username_key=username_key(username) if username else None,
        phone=phone,
        role=role,
        disabled=disabled,
        id=user_id,
        created_at=created_at,
        password=password,
        totp_secret=totp_secret,
        identities=identities,
    )
