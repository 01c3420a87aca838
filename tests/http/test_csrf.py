"""CSRF: a state-changing request authenticated by cookie alone must come from an allowed
origin. Each case attacks the rule; the controls show the same request passes when it should."""

from __future__ import annotations

import httpx
import pytest

from tests.support.app import ClientFactory
from tests.support.http import bearer, cookie_header, login, register

EVIL = [
    {"Origin": "https://evil.example"},
    {"Origin": "http://testserver.evil.example"},
    {"Origin": "http://testserver:8080"},
    {"Origin": "https://testserver"},
    {"Origin": "null"},
    {"Referer": "https://evil.example/page"},
    {"Referer": "http://user@evil.example/"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Origin": "http://testserver", "Sec-Fetch-Site": "cross-site"},
]
GOOD = [
    {},
    {"Origin": "http://testserver"},
    {"Origin": "HTTP://TESTSERVER:80"},
    {"Referer": "http://testserver/app/settings"},
    {"Sec-Fetch-Site": "same-origin", "Origin": "http://testserver"},
]


async def _body(client: httpx.AsyncClient) -> dict[str, str]:
    await register(client)
    return dict((await login(client)).json())


def _with(cookies: list[tuple[str, str]], extra: dict[str, str]) -> list[tuple[str, str]]:
    return cookies + list(extra.items())


@pytest.mark.parametrize("extra", EVIL)
async def test_cross_site_cookie_requests_are_refused(client: httpx.AsyncClient, extra: dict[str, str]) -> None:
    body = await _body(client)
    access = cookie_header(accessToken=body["accessToken"])
    both = cookie_header(accessToken=body["accessToken"], refreshToken=body["refreshToken"])
    for method, path, headers in (
        ("DELETE", "/sessions", access),
        ("PUT", "/user", access),
        ("POST", "/logout", both),
        ("POST", "/refresh", cookie_header(refreshToken=body["refreshToken"])),
    ):
        kwargs = {"json": {"name": "Mallory"}} if method == "PUT" else {}
        response = await client.request(method, path, headers=_with(headers, extra), **kwargs)
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["code"] == "forbidden"
        assert response.headers.get_list("set-cookie") == []  # a refused request changes nothing
    # Nothing happened: the session is live, the name unchanged, the refresh token unused.
    profile = await client.get("/profile", headers=bearer(body["accessToken"]))
    assert profile.status_code == 200 and profile.json()["name"] is None
    assert (await client.post("/refresh", json={"refreshToken": body["refreshToken"]})).status_code == 200


async def test_a_cross_site_get_navigation_cannot_log_out_or_refresh(client: httpx.AsyncClient) -> None:
    body = await _body(client)
    both = cookie_header(accessToken=body["accessToken"], refreshToken=body["refreshToken"])
    for path in ("/token/revoke", "/token/refresh"):
        response = await client.get(path, headers=[*both, ("Sec-Fetch-Site", "cross-site")])
        assert response.status_code == 403
    assert (await client.get("/profile", headers=bearer(body["accessToken"]))).status_code == 200


@pytest.mark.parametrize("extra", GOOD)
async def test_same_origin_and_non_browser_cookie_requests_pass(
    client: httpx.AsyncClient, extra: dict[str, str]
) -> None:
    body = await _body(client)
    response = await client.put(
        "/user", json={"name": "Ada"}, headers=_with(cookie_header(accessToken=body["accessToken"]), extra)
    )
    assert response.status_code == 200, response.text


async def test_bearer_requests_need_no_origin_check(client: httpx.AsyncClient) -> None:
    body = await _body(client)
    headers = {**bearer(body["accessToken"]), "Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}
    assert (await client.put("/user", json={"name": "Ada"}, headers=headers)).status_code == 200
    assert (
        await client.post("/refresh", json={"refreshToken": body["refreshToken"]}, headers=headers)
    ).status_code == 200


async def test_safe_methods_by_cookie_are_not_refused(client: httpx.AsyncClient) -> None:
    body = await _body(client)
    headers = _with(cookie_header(accessToken=body["accessToken"]), {"Origin": "https://evil.example"})
    assert (await client.get("/profile", headers=headers)).status_code == 200


async def test_origins_in_the_redirect_allowlist_are_allowed(make_client: ClientFactory) -> None:
    async with make_client(redirect_allowlist=["https://app.example.com/", "http://localhost:5173"]) as client:
        body = await _body(client)
        cookies = cookie_header(accessToken=body["accessToken"])
        for origin, status in (
            ("https://app.example.com", 200),
            ("https://app.example.com:443", 200),
            ("http://localhost:5173", 200),
            ("http://localhost:5174", 403),
            ("https://app.example.com.evil.example", 403),
        ):
            response = await client.put("/user", json={"name": "Ada"}, headers=[*cookies, ("Origin", origin)])
            assert response.status_code == status, (origin, response.text)
