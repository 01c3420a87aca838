"""CSRF defence for requests that authenticate by cookie alone.

A browser attaches our cookies to cross-site requests (SameSite=Lax still sends them on
top-level GET navigations), so a state-changing request whose only credential is a cookie
must come from an origin we trust: the public URL's origin or one in
AUTHGATE_REDIRECT_ALLOWLIST. Browsers always send `Origin` on cross-origin POST/PUT/PATCH/
DELETE, and `Sec-Fetch-Site` on every request; a request with neither `Origin` nor `Referer`
is not a browser's cross-site request (curl, a server, a script) and is allowed. Bearer
requests need no check: another site cannot make a browser send our Authorization header.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

from fastapi import Request

from authgate.errors import forbidden
from authgate.settings import Settings

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
OWN_FETCH_SITES = frozenset({"same-origin", "none"})  # our own page; typed, bookmarked, or opened
DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> str | None:
    """`scheme://host[:port]`, lower-cased, default port dropped; None if not an http(s) URL."""
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


@lru_cache(maxsize=8)
def _allowed(public_url: str, allowlist: tuple[str, ...]) -> frozenset[str]:
    return frozenset(o for o in (origin_of(u) for u in (public_url, *allowlist)) if o is not None)


def allowed_origins(settings: Settings) -> frozenset[str]:
    return _allowed(settings.public_url, tuple(settings.redirect_allowlist))


def check_origin(request: Request, settings: Settings) -> None:
    """Refuse (403 `forbidden`) a cross-site request; see the module docstring."""
    headers = request.headers
    if headers.get("sec-fetch-site", "").lower() == "cross-site":
        raise forbidden("Cross-site request refused (CSRF protection).")
    claimed = headers.get("origin") or headers.get("referer")
    if claimed is None:
        return
    if origin_of(claimed) not in allowed_origins(settings):
        raise forbidden("Cross-site request refused (CSRF protection): the origin is not allowed.")


def check_cookie_action(request: Request, settings: Settings) -> None:
    """The check for an endpoint that acts on a cookie whatever the method (logout, refresh).

    A GET is a navigation another site can start: SameSite=Lax sends our cookies along, a
    sibling site's link is `same-site` (which check_origin lets through) and may carry no
    Origin or Referer at all. So a browser's GET must say `Sec-Fetch-Site: same-origin` or
    `none`; a GET without the header is not a browser's and gets the Origin check, as a POST does.
    """
    site = request.headers.get("sec-fetch-site")
    if request.method not in UNSAFE_METHODS and site is not None and site.strip().lower() not in OWN_FETCH_SITES:
        raise forbidden("Cross-site request refused (CSRF protection): this link works only from our own pages.")
    check_origin(request, settings)


def check_cookie_request(request: Request, settings: Settings) -> None:
    """The check for a state-changing request authenticated by a cookie."""
    if request.method in UNSAFE_METHODS:
        check_origin(request, settings)
