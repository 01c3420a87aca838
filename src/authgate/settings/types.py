"""The checked types of the settings: a field's own rule is written on its type, next to it.

Each is an `Annotated` type whose validators normalise what the environment gives (a
comma-separated list, any letter case, a blank meaning unset) and refuse what cannot work, with
the message an operator sees after the variable's name. Rules spanning two fields are not here:
they are their section's model validator."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import AfterValidator, BeforeValidator
from pydantic_settings import NoDecode

from authgate.abuse.rules import parse_rules
from authgate.security.redirects import app_entry

T = TypeVar("T")
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}


# --- text ---------------------------------------------------------------------------------


def _lower(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


def _blank_is_unset(value: str | None) -> str | None:
    return value or None


Lower = Annotated[T, BeforeValidator(_lower)]
"""A choice of lower-case words, in any letter case and with spaces around."""
BlankIsUnset = Annotated[str | None, AfterValidator(_blank_is_unset)]
"""Optional text; an empty value (`AUTHGATE_X=`) means unset."""


def any_case(*names: str) -> BeforeValidator:
    """Accept any letter case of `names` (`eddsa` for `EdDSA`), giving the canonical spelling; say which exist."""
    canonical = {name.lower(): name for name in names}

    def pick(value: object) -> object:
        if isinstance(value, str) and value.strip().lower() in canonical:
            return canonical[value.strip().lower()]
        raise ValueError(f"must be one of {', '.join(names)}")

    return BeforeValidator(pick)


JwtAlgorithm = Annotated[Literal["HS256", "EdDSA", "ES256", "RS256"], any_case("HS256", "EdDSA", "ES256", "RS256")]


# --- lists --------------------------------------------------------------------------------


def _split(separators: str) -> Callable[[object], object]:
    def split(value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in re.split(separators, value) if part.strip()]
        return value

    return split


# NoDecode: the environment's "a,b" reaches the validator as text, not as JSON.
CsvList = Annotated[list[str], NoDecode, BeforeValidator(_split(r","))]
"""Comma-separated."""
SpacedList = Annotated[list[str], NoDecode, BeforeValidator(_split(r"[\s,]+"))]
"""Space- or comma-separated."""


def _route_prefixes(value: list[str]) -> list[str]:
    cleaned = []
    for prefix in value:
        if not prefix.startswith("/"):
            raise ValueError(f"route prefix {prefix!r} must start with '/'")
        cleaned.append("" if prefix == "/" else prefix.rstrip("/"))
    if not cleaned:
        raise ValueError("at least one route prefix is needed")
    return cleaned


RoutePrefixes = Annotated[CsvList, AfterValidator(_route_prefixes)]
"""Paths starting with `/`, kept without their trailing `/` (so `/` is kept as ``)."""


def _origins(*, apps: bool, exact: bool) -> AfterValidator:
    """Each entry one exact origin (or, with `apps`, an app's own URL): a wildcard would look
    allowed here and match nothing. `exact`: scheme, host and port only."""

    def check(value: list[str]) -> list[str]:
        for entry in value:
            parts = urlsplit(entry)
            if "*" in entry:
                raise ValueError(
                    f"{entry!r}: wildcards are not supported; list each origin, such as https://app.example.com"
                )
            if apps and parts.scheme.lower() not in {"http", "https"}:
                app_entry(entry)  # an app's own scheme (ValueError says why it is not one)
                continue
            if parts.scheme not in {"http", "https"} or not parts.hostname or parts.username or parts.password:
                raise ValueError(f"{entry!r} is not an http(s) origin such as https://app.example.com")
            if exact and (parts.path not in {"", "/"} or parts.query or parts.fragment):
                raise ValueError(
                    f"{entry!r} is not an origin: scheme, host and port only, such as https://app.example.com"
                )
        return value

    return AfterValidator(check)


Origins = Annotated[CsvList, _origins(apps=False, exact=True)]
"""Comma-separated exact browser origins (`https://app.example.com`)."""
RedirectTargets = Annotated[CsvList, _origins(apps=True, exact=False)]
"""Comma-separated http(s) origins, or places in native apps (`myapp://auth`)."""


# --- URLs ---------------------------------------------------------------------------------


def _is_http_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in {"http", "https"} and bool(parts.hostname)


def _absolute_url(value: str | None, *, https_unless_loopback: bool = False) -> str | None:
    if not value:
        return None
    parts = urlsplit(value)
    if not _is_http_url(value):
        raise ValueError(f"{value!r} must be an absolute http(s) URL")
    if https_unless_loopback and parts.scheme != "https" and parts.hostname not in LOOPBACK_HOSTS:
        raise ValueError(f"{value!r} must use https (plain http only on this machine, for development)")
    return value


def _public_url(value: str) -> str:
    if not _is_http_url(value):
        raise ValueError("must be an absolute http(s) URL")
    return value.rstrip("/")


def _optional_http_url(value: str | None) -> str | None:
    if value and not _is_http_url(value):
        raise ValueError("must be an absolute http(s) URL")
    return value or None


def _https_url(value: str | None) -> str | None:
    return _absolute_url(value, https_unless_loopback=True)


def _app_url(value: str | None) -> str | None:
    url = _absolute_url(value)
    if url and (urlsplit(url).username or urlsplit(url).fragment):
        raise ValueError(f"{url!r} must not have user information or a fragment")
    return url.rstrip("/") if url else None


def _database_url(value: str) -> str:
    if urlsplit(value).scheme not in {"sqlite+aiosqlite", "postgresql+asyncpg"}:
        raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
    return value


def _redis_url(value: str | None) -> str | None:
    if value and urlsplit(value).scheme not in {"redis", "rediss", "unix"}:
        raise ValueError("must be a redis:// or rediss:// URL")
    return value or None


PublicUrl = Annotated[str, AfterValidator(_public_url)]
"""An absolute http(s) URL, kept without its trailing `/`."""
AbsoluteUrl = Annotated[str | None, AfterValidator(_optional_http_url)]
"""Optional; an absolute http(s) URL."""
HttpsUrl = Annotated[str | None, AfterValidator(_https_url)]
"""Optional; an absolute URL that a secret is sent to: `https`, or plain `http` on this machine only."""
AppUrl = Annotated[str | None, AfterValidator(_app_url)]
"""Optional; an absolute http(s) URL without user information or fragment, kept without its trailing `/`."""
DatabaseUrl = Annotated[str, AfterValidator(_database_url)]
"""A SQLAlchemy URL of a driver authgate runs on."""
RedisUrl = Annotated[str | None, AfterValidator(_redis_url)]
"""Optional; `redis://`, `rediss://` or `unix://`."""


# --- other --------------------------------------------------------------------------------


def _cookie_domain(value: object) -> object:
    if not isinstance(value, str) or not value.strip():
        return None
    domain = value.strip().lower().lstrip(".")
    if not re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)+", domain):
        raise ValueError(f"{value!r} must be a domain name such as example.com")
    return domain


def _rate_rules(value: str) -> str:
    parse_rules(value)  # ValueError says which rule is wrong
    return value


CookieDomain = Annotated[str | None, BeforeValidator(_cookie_domain)]
"""Optional; a domain name, lower-cased, without a leading `.`."""
RateRules = Annotated[str, AfterValidator(_rate_rules)]
"""`on`, `off`, or rules such as `login.ip=20/minute` (authgate.abuse.rules)."""
