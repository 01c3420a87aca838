"""One way to read a URL's origin, shared by the server (the redirect allow-list, the CSRF
check, CORS) and by this library's trusted origins: an origin written two ways
(`HTTPS://App.example.com:443/`) must compare equal everywhere. It lives here, with no server
import, so that services can use `authgate.client` alone (security/origins.py re-exports it)."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> str | None:
    """`scheme://host[:port]`, lower-cased, default port dropped; None for anything that is not
    an absolute http(s) URL without user information (`null`, a bad port, `user@host`)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in DEFAULT_PORTS or not host or parts.username is not None or parts.password is not None:
        return None
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    return f"{scheme}://{host}" if port in (None, DEFAULT_PORTS[scheme]) else f"{scheme}://{host}:{port}"


def origins_of(urls: Iterable[str]) -> frozenset[str]:
    """The origins of `urls`, dropping any that has none."""
    return frozenset(o for o in map(origin_of, urls) if o is not None)
