"""CSRF defence for requests that authenticate by cookie alone.

A browser attaches our SameSite=Lax cookies to requests other pages start (every request from a
sibling subdomain, and top-level GET navigations from anywhere), so a state-changing request
whose only credential is a cookie must come from an origin we trust: the public URL's, one in
AUTHGATE_REDIRECT_ALLOWLIST or one in AUTHGATE_CORS_ORIGINS, compared normalised
(security/origins.py).

- Browsers send `Origin` on every cross-origin request except a GET navigation, and
  `Sec-Fetch-Site` on every request; a page's script can set neither. A request with neither
  `Origin` nor `Referer` is not a browser's cross-origin request (curl, a server, a script)
  and is allowed.
- `Sec-Fetch-Site: cross-site` passes only with an `Origin` naming a trusted origin other than
  our own: an app on another site that we list. A Referer is not enough there, and a browser
  never calls our own origin cross-site unless the request detoured through another site.
- Bearer requests need no check: another site cannot make a browser send our Authorization
  header.
"""

from __future__ import annotations

from functools import lru_cache

from fastapi import Request
from starlette.datastructures import Headers

from authgate.errors import forbidden
from authgate.security.origins import origin_of, origins_of
from authgate.settings import Settings

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
OWN_FETCH_SITES = frozenset({"same-origin", "none"})  # our own page; typed, bookmarked, or opened


@lru_cache(maxsize=8)
def _trusted(public_url: str, others: tuple[str, ...]) -> tuple[frozenset[str], frozenset[str]]:
    """(every trusted origin, those that may come from another site: all but our own)."""
    ours = origins_of((public_url,))
    listed = origins_of(others)
    return ours | listed, listed - ours


def trusted_origins(settings: Settings) -> frozenset[str]:
    """The origins a cookie-authenticated request may come from."""
    return _trusted(settings.public_url, (*settings.redirect_allowlist, *settings.cors_origins))[0]


def _cross_site_origins(settings: Settings) -> frozenset[str]:
    return _trusted(settings.public_url, (*settings.redirect_allowlist, *settings.cors_origins))[1]


def _fetch_site(headers: Headers) -> str | None:
    site = headers.get("sec-fetch-site")
    return site.strip().lower() if site is not None else None


def check_origin(request: Request, settings: Settings) -> None:
    """Refuse (403 `forbidden`) a request from an origin we do not trust; see the module docstring."""
    headers = request.headers
    origin = headers.get("origin")
    if _fetch_site(headers) == "cross-site":
        if origin is None or origin_of(origin) not in _cross_site_origins(settings):
            raise forbidden("Cross-site request refused (CSRF protection).")
        return
    claimed = origin or headers.get("referer")
    if claimed is None:
        return
    if origin_of(claimed) not in trusted_origins(settings):
        raise forbidden("Cross-site request refused (CSRF protection): the origin is not allowed.")


def _is_script_fetch(headers: Headers) -> bool:
    """A page's `fetch`/XHR in CORS mode: it names its origin, which check_origin then judges."""
    mode = headers.get("sec-fetch-mode", "").strip().lower()
    return mode == "cors" and headers.get("origin") is not None


def check_cookie_action(request: Request, settings: Settings) -> None:
    """The check for an endpoint that acts on a cookie whatever the method (logout, refresh).

    A GET is a navigation another site can start: SameSite=Lax sends our cookies along, a
    sibling site's link is `same-site` and may carry no Origin or Referer at all. So a
    browser's GET must say `Sec-Fetch-Site: same-origin` or `none`, or be a script's fetch
    from a trusted origin: `Sec-Fetch-Mode: cors` with an `Origin` (a navigation is mode
    `navigate` and its GET names no Origin, and no page can set either header), which is how
    a listed app on a sibling subdomain refreshes. A GET without fetch metadata is not a
    browser's and gets the Origin check, as a POST does.
    """
    headers = request.headers
    site = _fetch_site(headers)
    if (
        request.method not in UNSAFE_METHODS
        and site is not None
        and site not in OWN_FETCH_SITES
        and not _is_script_fetch(headers)
    ):
        raise forbidden("Cross-site request refused (CSRF protection): this link works only from our own pages.")
    check_origin(request, settings)


def check_cookie_request(request: Request, settings: Settings) -> None:
    """The check for a state-changing request authenticated by a cookie."""
    if request.method in UNSAFE_METHODS:
        check_origin(request, settings)
