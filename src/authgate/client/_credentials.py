"""Finding the access token in a request: `Authorization: Bearer`, else (when enabled) a cookie.

A browser attaches cookies to requests other sites make it send, so a token read from a
cookie is a CSRF risk that a bearer header is not. authgate's cookie is SameSite=Lax, which
keeps it off cross-site POSTs but not off requests from sibling subdomains (same-site) nor
off top-level GET navigations. So a state-changing request (or a WebSocket handshake)
authenticated by the cookie is refused when the browser says it came from anywhere but this
origin (`Sec-Fetch-Site`), unless its `Origin` is one the service trusts (the web app on a
sibling subdomain that calls it with `credentials: "include"`). Requests without that header
are not a modern browser's and pass.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.requests import HTTPConnection

from authgate.client._origins import origin_of

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
OWN_SITES = frozenset({"same-origin", "none"})


class CrossSite(Exception):
    """A cookie-authenticated, state-changing request from another site."""


def bearer(conn: HTTPConnection) -> str | None:
    """The token of an `Authorization: Bearer` header ("" if the header holds a Bearer
    scheme with nothing after it); None when there is no such header."""
    header = conn.headers.get("authorization")
    if header is None:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip()


def trusted(origins: Iterable[str]) -> frozenset[str]:
    """Exact http(s) origins, normalised (`HTTPS://App.example.com:443` is
    `https://app.example.com`); ValueError for anything else (a wildcard, a path, a query)."""
    normalised = set()
    for entry in origins:
        origin = origin_of(entry)
        parts = urlsplit(entry)
        if origin is None or "*" in entry or parts.path not in {"", "/"} or parts.query or parts.fragment:
            raise ValueError(f"{entry!r} is not an origin such as https://app.example.com")
        normalised.add(origin)
    return frozenset(normalised)


def from_cookie(conn: HTTPConnection, name: str, trusted_origins: frozenset[str] = frozenset()) -> str | None:
    """The token in cookie `name`; raises CrossSite for a state-changing request from another
    origin, unless its `Origin` is in `trusted_origins`."""
    token = conn.cookies.get(name)
    if not token:
        return None
    changes_state = conn.scope["type"] == "websocket" or conn.scope.get("method") in UNSAFE_METHODS
    site = conn.headers.get("sec-fetch-site")
    if changes_state and site is not None and site.strip().lower() not in OWN_SITES:
        if origin_of(conn.headers.get("origin") or "") not in trusted_origins:
            raise CrossSite
    return token
