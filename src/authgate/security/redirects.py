"""Is a `redirectTo` safe to send a browser to? Judged by parsed origin against an allow-list.

Open redirects hide in the gaps between how we parse a URL and how a browser (or the app that
reads it) does: `//evil.com` is protocol-relative, browsers read `\\` as `/`, `user@host`
moves the host, and a layer that percent-decodes once more turns `%2F%2F` into `//`. So the
rules here are strict: refuse anything ambiguous rather than try to read it the browser's way.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit

from authgate.security.origins import DEFAULT_PORTS, origin_of

MAX_LENGTH = 2048


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


def check_redirect(value: str, *, allowed_origins: Iterable[str], base_url: str) -> str:
    """Return the absolute URL to redirect to, or raise UnsafeRedirect.

    Absolute http(s) URLs must have an allowed origin; a path starting with one `/` is resolved
    against `base_url`'s origin, which must itself be allowed.
    """
    if not value or len(value) > MAX_LENGTH:
        raise UnsafeRedirect("The redirect URL is empty or too long.")
    forms = _decoded_forms(value)
    for form in forms:
        if any(_unsafe_char(ch) for ch in form):
            raise UnsafeRedirect("The redirect URL contains a backslash, a space or a control character.")
    allowed = {_origin(entry) for entry in allowed_origins}

    if value.startswith("/"):
        for form in forms:
            if form.startswith("//"):
                raise UnsafeRedirect("Protocol-relative URLs are not allowed.")
        target = _origin(base_url) + value
    else:
        parts = urlsplit(value)
        scheme = parts.scheme.lower()
        if scheme not in DEFAULT_PORTS:
            raise UnsafeRedirect("Only http(s) URLs and paths starting with '/' are allowed.")
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
    if origin_of(target) not in allowed:
        raise UnsafeRedirect("The redirect URL is not on the allow-list.")
    return target


def allowed_origins(allowlist: Iterable[str], public_url: str) -> list[str]:
    """The configured allow-list, or the public URL's origin when none is configured."""
    entries = list(allowlist)
    return entries or [_origin(public_url)]
