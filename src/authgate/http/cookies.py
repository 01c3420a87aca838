"""The `accessToken` and `refreshToken` cookies of SPEC §2: HttpOnly, SameSite=Lax, Path=/,
Secure per setting, Max-Age equal to each token's lifetime."""

from __future__ import annotations

from fastapi import Request, Response
from starlette.requests import cookie_parser

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


def request_cookies(request: Request) -> dict[str, str]:
    """All cookies of the request, from every `Cookie` header.

    Starlette's `request.cookies` reads only the first header, but seed 003's curl lines send
    `accessToken` and `refreshToken` as two separate `Cookie` headers (as HTTP/2 clients may
    too), so the headers are joined before parsing. Earlier headers win on a repeated name.
    """
    values = [value for name, value in request.scope["headers"] if name == b"cookie"]
    if not values:
        return {}
    if len(values) == 1:
        return request.cookies
    merged: dict[str, str] = {}
    for value in values:
        for key, item in cookie_parser(value.decode("latin-1")).items():
            merged.setdefault(key, item)
    return merged
