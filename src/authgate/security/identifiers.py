"""Normalising what users type to identify themselves (emails, usernames, phones)."""

from __future__ import annotations

import re
import unicodedata

from email_validator import EmailNotValidError, validate_email

from authgate.errors import said

USERNAME_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,62}[A-Za-z0-9])?$")
PHONE_RE = re.compile(r"^\+[1-9][0-9]{6,14}$")  # E.164
KEY_MAX = 254  # the email_key column; a folded key can be longer than the address it came from


def normalize_email(raw: str) -> str:
    """Trim, NFKC, check syntax, lower-case the domain; the address and its key must fit the
    columns they are stored in. Raises ValueError with a user-facing message (a `said()`, which
    a page translates: take it as `exc.args[0]`, since `str(exc)` keeps only the English)."""
    candidate = unicodedata.normalize("NFKC", raw.strip())
    if len(candidate) > KEY_MAX:
        raise ValueError(said("Email address is too long."))
    try:
        checked = validate_email(candidate, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(said("Not a valid email address: %(reason)s", reason=str(exc))) from None
    email = f"{checked.local_part}@{checked.domain.lower()}"
    if len(email) > KEY_MAX or len(email_key(email)) > KEY_MAX:
        raise ValueError(said("Email address is too long."))
    return email


def identity_key(value: str) -> str:
    """What uniqueness is judged on: NFKC, case-folded, NFKC again (folding can denormalise).
    Look-alike spellings (`sam` with U+017F LONG S, `bob` in full-width letters) then share
    the key of the plain one, so they collide with it instead of squatting it."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", value).casefold())


def email_key(email: str) -> str:
    return identity_key(email)


def normalize_username(raw: str) -> str:
    value = raw.strip()
    if not USERNAME_RE.match(value):
        raise ValueError(
            said("Username must be 1-64 letters, digits, '.', '_' or '-', starting and ending with a letter or digit.")
        )
    return value


def username_key(username: str) -> str:
    return identity_key(username)


def normalize_phone(raw: str) -> str:
    value = re.sub(r"[\s()-]", "", raw)
    if not PHONE_RE.match(value):
        raise ValueError(said("Phone must be in international format, e.g. +14155550100."))
    return value
