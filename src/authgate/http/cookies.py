"""The `accessToken` and `refreshToken` cookies: HttpOnly, SameSite=Lax, Path=/,
Secure per setting, Max-Age equal to each token's lifetime.

Reading them: `request.cookies` already merges every `Cookie` header (Starlette parses each
one), which curl scripts need: they send the two cookies as two separate headers.
`tests/sessions` pins that behaviour in-process and against a real server."""

from __future__ import annotations

from fastapi import Response

from authgate.settings import Settings

ACCESS_COOKIE = "accessToken"
REFRESH_COOKIE = "refreshToken"


def _set(response: Response, settings: Settings, name: str, value: str, max_age: int) -> None:
    """The one place the cookie attributes are written."""
    response.set_cookie(
        name, value, max_age=max_age, path="/", httponly=True, samesite="lax", secure=settings.cookie_secure
    )


def set_auth_cookies(response: Response, settings: Settings, *, access_token: str, refresh_token: str | None) -> None:
    _set(response, settings, ACCESS_COOKIE, access_token, settings.access_ttl_seconds)
    if refresh_token is not None:
        _set(response, settings, REFRESH_COOKIE, refresh_token, settings.refresh_token_ttl_seconds)


def clear_auth_cookies(response: Response, settings: Settings) -> None:
    for name in (ACCESS_COOKIE, REFRESH_COOKIE):
        response.delete_cookie(name, path="/", httponly=True, samesite="lax", secure=settings.cookie_secure)
