"""Is a `redirectTo` safe to send a browser to? Judged by parsed origin against an allow-list.

Open redirects hide in the gaps between how we parse a URL and how a browser (or the app that
reads it) does: `//evil.com` is protocol-relative, browsers read `\\` as `/`, `user@host`
moves the host, and a layer that percent-decodes once more turns `%2F%2F` into `//`. So the
rules here are strict: refuse anything ambiguous rather than try to read it the browser's way.

Native and mobile apps receive their redirect at a URL of their own scheme (`myapp://auth/cb`,
`com.example.app:/oauth`). Such a target is allowed only under an allow-list entry of that
scheme, as a prefix that ends at a path or query boundary: `myapp://auth` admits
`myapp://auth/cb` but not `myapp://auth.evil/` or `myapp://auth@evil`. Schemes that run or
read something in the browser itself (`javascript:`, `data:`, `file:`...) are never allowed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from authgate.security.origins import DEFAULT_PORTS, origin_of

MAX_LENGTH = 2048
SCHEME = re.compile(r"[a-z][a-z0-9+.-]*")
# Schemes a browser acts on itself, or that name no app: never a redirect target.
REFUSED_SCHEMES = frozenset(
    {"javascript", "vbscript", "data", "file", "blob", "about", "filesystem", "view-source", "ws", "wss", "ftp"}
)


class UnsafeRedirect(ValueError):
    """The value is not a redirect target we allow; the message says why (safe to show)."""


def _origin(url: str) -> str:
    """The origin of an absolute http(s) URL (security/origins.py); raises UnsafeRedirect."""
    origin = origin_of(url)
    if origin is None:
        raise UnsafeRedirect("Only absolute http(s) URLs are allowed.")
    return origin


def _unsafe_char(ch: str) -> bool:
    # Controls (C0, C1, DEL), format characters (bidi overrides, zero-width) and any whitespace.
    return ch == "\\" or ch.isspace() or unicodedata.category(ch) in {"Cc", "Cf", "Zs", "Zl", "Zp"}


def _decoded_forms(value: str) -> list[str]:
    """The value and every form repeated percent-decoding yields (double encoding included)."""
    forms = [value]
    for _ in range(5):
        nxt = unquote(forms[-1])
        if nxt == forms[-1]:
            break
        forms.append(nxt)
    return forms


def app_entry(entry: str) -> str:
    """An allow-list entry of an app's own scheme, normalised (scheme lower-cased, no trailing
    `/`); ValueError saying why when it cannot be one."""
    scheme, sep, rest = entry.partition(":")
    scheme = scheme.lower()
    if not sep or not SCHEME.fullmatch(scheme) or scheme in REFUSED_SCHEMES or scheme in DEFAULT_PORTS:
        raise ValueError(f"{entry!r} is not an http(s) origin or an app's own scheme such as myapp://auth")
    if not rest.startswith("/") or rest.strip("/") == "" or any(_unsafe_char(ch) or ch in "@%?#" for ch in rest):
        raise ValueError(f"{entry!r} must name a place in the app, such as myapp://auth or com.example.app:/oauth")
    return f"{scheme}:{rest.rstrip('/')}"


def _under(target: str, entries: set[str]) -> bool:
    scheme, _, rest = target.partition(":")
    normalised = f"{scheme.lower()}:{rest}"
    return any(normalised == e or normalised.startswith((e + "/", e + "?")) for e in entries)


def check_redirect(value: str, *, allowed: Iterable[str], base_url: str) -> str:
    """Return the absolute URL to redirect to, or raise UnsafeRedirect.

    `allowed` holds http(s) origins and app entries (`myapp://auth`). Absolute http(s) URLs
    must have an allowed origin; a path starting with one `/` is resolved against `base_url`'s
    origin, which must itself be allowed; a URL of another scheme must lie under an app entry.
    """
    if not value or len(value) > MAX_LENGTH:
        raise UnsafeRedirect("The redirect URL is empty or too long.")
    forms = _decoded_forms(value)
    for form in forms:
        if any(_unsafe_char(ch) for ch in form):
            raise UnsafeRedirect("The redirect URL contains a backslash, a space or a control character.")
    entries = list(allowed)
    origins = {origin for entry in entries if (origin := origin_of(entry)) is not None}
    apps = {app_entry(entry) for entry in entries if origin_of(entry) is None}

    if value.startswith("/"):
        for form in forms:
            if form.startswith("//"):
                raise UnsafeRedirect("Protocol-relative URLs are not allowed.")
        target = _origin(base_url) + value
    else:
        parts = urlsplit(value)
        scheme = parts.scheme.lower()
        if scheme not in DEFAULT_PORTS:
            if SCHEME.fullmatch(scheme) and scheme not in REFUSED_SCHEMES and all(_under(f, apps) for f in forms):
                return value
            raise UnsafeRedirect(
                "Only http(s) URLs, paths starting with '/' and the app URLs on the allow-list are allowed."
            )
        if not value[len(parts.scheme) :].startswith("://"):
            raise UnsafeRedirect("The URL must have the form scheme://host/...")
        if "@" in parts.netloc or "%" in parts.netloc:
            raise UnsafeRedirect("User information or encoded characters in the host are not allowed.")
        for form in forms[1:]:
            if urlsplit(form).netloc.lower() != parts.netloc.lower():
                raise UnsafeRedirect("The host changes when the URL is decoded.")
        if any(form.startswith("//") for form in _decoded_forms(parts.path)):
            raise UnsafeRedirect("The path must not start with '//'.")
        target = value
    if origin_of(target) not in origins:
        raise UnsafeRedirect("The redirect URL is not on the allow-list.")
    return target


def allowed_targets(allowlist: Iterable[str], *defaults: str | None) -> list[str]:
    """The configured allow-list; when none is configured, the origins of `defaults` (the
    public URL's, and the app's when one is set)."""
    entries = list(allowlist)
    return entries or [_origin(url) for url in defaults if url]


def with_query(url: str, params: dict[str, str], fragment: dict[str, str] | None = None) -> str:
    """`url` (an allowed target) with `params` added to its query, and `fragment` as its fragment."""
    parts = urlsplit(url)
    query = urlencode([*parse_qsl(parts.query, keep_blank_values=True), *params.items()])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, urlencode(fragment) if fragment else ""))
