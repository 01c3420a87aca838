"""Helpers for the sessions/tokens tests: signing in, reading Set-Cookie, peeking at rows."""

from __future__ import annotations

from typing import Any

import httpx

from tests.helpers import STRONG_PASSWORD, register, runtime, sql

__all__ = ["STRONG_PASSWORD", "cookie_header", "login", "register", "runtime", "set_cookies", "sql"]


async def login(
    client: httpx.AsyncClient,
    email: str = "ada@example.com",
    password: str = STRONG_PASSWORD,
    prefix: str = "/api/auth",
    **extra: Any,
) -> httpx.Response:
    """Sign in; the client's own cookie jar is emptied so that tests choose what they send."""
    response = await client.post(f"{prefix}/login", json={"email": email, "password": password, **extra})
    assert response.status_code == 200, response.text
    client.cookies.clear()
    return response


def set_cookies(response: httpx.Response) -> dict[str, dict[str, str]]:
    """`{name: {"value": ..., "max-age": ..., "httponly": "", ...}}` from every Set-Cookie."""
    found: dict[str, dict[str, str]] = {}
    for header in response.headers.get_list("set-cookie"):
        first, *attrs = [part.strip() for part in header.split(";")]
        name, _, value = first.partition("=")
        entry = {"value": value.strip('"')}
        for attr in attrs:
            key, _, val = attr.partition("=")
            entry[key.lower()] = val
        found[name] = entry
    return found


def cookie_header(**cookies: str) -> list[tuple[str, str]]:
    """One `Cookie` header per cookie, as the cookie flow's curl lines send them."""
    return [("Cookie", f"{name}={value}") for name, value in cookies.items()]
