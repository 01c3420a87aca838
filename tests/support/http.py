"""Driving the API over HTTP: registering and signing in, bearer headers, reading Set-Cookie,
an administrator's token, and other clients of the same running app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from authgate.services.admin import users as users_admin
from tests.support.app import runtime

STRONG_PASSWORD = "Sturdy-Horse-42"


async def register(
    client: httpx.AsyncClient,
    email: str = "ada@example.com",
    password: str = STRONG_PASSWORD,
    prefix: str = "/api/auth",
    **extra: Any,
) -> httpx.Response:
    response = await client.post(f"{prefix}/register", json={"email": email, "password": password, **extra})
    assert response.status_code == 201, response.text
    return response


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


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


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


async def admin_token(client: httpx.AsyncClient, email: str = "root@example.com", role: str = "admin") -> str:
    """An access token of a new, verified account holding `role` (made as the CLI makes one)."""
    await users_admin.create_user(runtime(client), email=email, password=STRONG_PASSWORD, role=role, verified=True)
    response = await client.post("/login", json={"email": email, "password": STRONG_PASSWORD})
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token


async def assert_needs_capability(
    client: httpx.AsyncClient, token: str, attempts: list[tuple[str, str, dict[str, Any] | None]]
) -> None:
    """Each `(method, path, body)` is 401 without a token and 403 `forbidden` with `token`
    (an account that lacks the capability)."""
    for method, path, body in attempts:
        anonymous = await client.request(method, path, json=body)
        assert anonymous.status_code == 401, (method, path)
        refused = await client.request(method, path, json=body, headers=bearer(token))
        assert refused.status_code == 403, (method, path, refused.text)
        assert refused.json()["code"] == "forbidden"


@asynccontextmanager
async def from_address(client: httpx.AsyncClient, host: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client on the same app (same runtime, same counts) whose connections come from `host`."""
    transport = httpx.ASGITransport(app=client.app, client=(host, 5000))  # type: ignore[attr-defined]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
        other.app = client.app  # type: ignore[attr-defined]
        yield other


@asynccontextmanager
async def tolerant(client: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the same running app that gets a 500 as a response, as a real client
    would, instead of the exception the test transport re-raises by default."""
    transport = httpx.ASGITransport(app=client.app, raise_app_exceptions=False)  # type: ignore[attr-defined]
    async with httpx.AsyncClient(transport=transport, base_url=str(client.base_url)) as other:
        yield other
