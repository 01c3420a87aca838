"""The `accessToken` and `refreshToken` cookies of SPEC §2: HttpOnly, SameSite=Lax, Path=/,
Secure per setting, Max-Age equal to each token's lifetime.

Reading them: `request.cookies` already merges every `Cookie` header (Starlette parses each
one), which seed 003's curl lines need: they send the two cookies as two separate headers.
`tests/sessions` pins that behaviour in-process and against a real server."""

from __future__ import annotations

from fastapi import Response

from authgate.settings import Settings

ACCESS_COOKIE = "accessToken"
REFRESH_COOKIE = "refreshToken"


def set_auth_cookies(response: Response, settings: Settings, *, access_token: str, refresh_token: str | None) -> None:
    response.set_cookie(
        ACCESS_COOKIE,
        access_token,
        max_age=settings.access_ttl_seconds,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
    )
    if refresh_token is not None:
        response.set_cookie(
            REFRESH_COOKIE,
            refresh_token,
            max_age=settings.refresh_token_ttl_seconds,
            path="/",
            httponly=True,
            samesite="lax",
            secure=settings.cookie_secure,
        )


def clear_auth_cookies(response: Response, settings: Settings) -> None:
    for name in (ACCESS_COOKIE, REFRESH_COOKIE):
        response.delete_cookie(name, path="/", httponly=True, samesite="lax", secure=settings.cookie_secure)
