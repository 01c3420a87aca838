"""Normalising what users type to identify themselves (emails, usernames, phones)."""

from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email

USERNAME_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,62}[A-Za-z0-9])?$")
PHONE_RE = re.compile(r"^\+[1-9][0-9]{6,14}$")  # E.164


def normalize_email(raw: str) -> str:
    """Trim, check syntax, lower-case the domain. Raises ValueError with a user-facing message."""
    candidate = raw.strip()
    if len(candidate) > 254:
        raise ValueError("Email address is too long.")
    try:
        checked = validate_email(candidate, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(f"Not a valid email address: {exc}") from None
    return f"{checked.local_part}@{checked.domain.lower()}"


def email_key(email: str) -> str:
    """What uniqueness is judged on: the whole address, case-folded."""
    return email.casefold()


def normalize_username(raw: str) -> str:
    value = raw.strip()
    if not USERNAME_RE.match(value):
        raise ValueError(
            "Username must be 1-64 letters, digits, '.', '_' or '-', starting and ending with a letter or digit."
        )
    return value


def username_key(username: str) -> str:
    return username.casefold()


def normalize_phone(raw: str) -> str:
    value = re.sub(r"[\s()-]", "", raw)
    if not PHONE_RE.match(value):
        raise ValueError("Phone must be in international format, e.g. +14155550100.")
    return value
