"""The `accessToken` and `refreshToken` cookies (and social login's browser binding):
HttpOnly, SameSite=Lax, Path=/, Secure per setting, Max-Age equal to each one's lifetime.

Reading them: `request.cookies` already merges every `Cookie` header (Starlette parses each
one), which curl scripts need: they send the two cookies as two separate headers.
`tests/sessions` pins that behaviour in-process and against a real server."""

from __future__ import annotations

from fastapi import Response

from authgate.settings import Settings

ACCESS_COOKIE = "accessToken"
REFRESH_COOKIE = "refreshToken"


def set_cookie(response: Response, settings: Settings, name: str, value: str, max_age: int) -> None:
    """The one place the cookie attributes are written."""
    response.set_cookie(
        name, value, max_age=max_age, path="/", httponly=True, samesite="lax", secure=settings.cookie_secure
    )


def set_auth_cookies(response: Response, settings: Settings, *, access_token: str, refresh_token: str | None) -> None:
    set_cookie(response, settings, ACCESS_COOKIE, access_token, settings.access_ttl_seconds)
    if refresh_token is not None:
        set_cookie(response, settings, REFRESH_COOKIE, refresh_token, settings.refresh_token_ttl_seconds)


def clear_auth_cookies(response: Response, settings: Settings) -> None:
    for name in (ACCESS_COOKIE, REFRESH_COOKIE):
        response.delete_cookie(name, path="/", httponly=True, samesite="lax", secure=settings.cookie_secure)


def oauth_browser_cookie(settings: Settings) -> str:
    """`__Host-oauthBrowser` when cookies are Secure: the prefix makes browsers refuse the
    cookie from a sibling subdomain or a plain-http page, so no one can plant a binding value
    they know in someone else's browser. Plain `oauthBrowser` for local http development."""
    return "__Host-oauthBrowser" if settings.cookie_secure else "oauthBrowser"
