"""The CSRF origin check with browser apps on other origins: a listed origin (CORS or redirect
allow-list) passes even when the browser says `cross-site`, an unlisted one never does, and a
listed app's own `fetch` may log out or refresh by GET where a navigation may not."""

from __future__ import annotations

import httpx
import pytest

from tests.support.app import ClientFactory
from tests.support.http import bearer, cookie_header, login, register

APP = "https://app.example.com"  # in AUTHGATE_CORS_ORIGINS
SIBLING = "http://app.example.test:8080"  # in AUTHGATE_CORS_ORIGINS too
RETURN_TO = "https://shop.example.org"  # in AUTHGATE_REDIRECT_ALLOWLIST
LISTS = {"cors_origins": [APP, SIBLING], "redirect_allowlist": [RETURN_TO]}


async def signed_in(client: httpx.AsyncClient) -> dict[str, str]:
    await register(client)
    return dict((await login(client)).json())


@pytest.mark.parametrize(
    "extra",
    [
        {"Origin": APP, "Sec-Fetch-Site": "cross-site"},
        {"Origin": "HTTPS://APP.EXAMPLE.COM:443", "Sec-Fetch-Site": "cross-site"},
        {"Origin": SIBLING, "Sec-Fetch-Site": "same-site"},
        {"Origin": RETURN_TO, "Sec-Fetch-Site": "cross-site"},
        {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"},
        {"Referer": f"{APP}/settings"},
    ],
)
async def test_listed_origins_pass(make_client: ClientFactory, extra: dict[str, str]) -> None:
    async with make_client(**LISTS) as client:
        body = await signed_in(client)
        headers = [*cookie_header(accessToken=body["accessToken"]), *extra.items()]
        answer = await client.put("/user", json={"name": "Ada"}, headers=headers)
        assert answer.status_code == 200, answer.text


@pytest.mark.parametrize(
    "extra",
    [
        {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
        {"Origin": "http://evil.example.test:8080", "Sec-Fetch-Site": "same-site"},
        {"Origin": "https://app.example.com.evil.example", "Sec-Fetch-Site": "cross-site"},
        {"Origin": "null", "Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Referer": f"{APP}/settings", "Sec-Fetch-Site": "cross-site"},  # cross-site must name its Origin
        {"Origin": "http://testserver", "Sec-Fetch-Site": "cross-site"},  # our own pages are never cross-site
    ],
)
async def test_unlisted_origins_are_refused(make_client: ClientFactory, extra: dict[str, str]) -> None:
    async with make_client(**LISTS) as client:
        body = await signed_in(client)
        both = cookie_header(accessToken=body["accessToken"], refreshToken=body["refreshToken"])
        for method, path, headers in (
            ("PUT", "/user", cookie_header(accessToken=body["accessToken"])),
            ("POST", "/logout", both),
            ("POST", "/refresh", cookie_header(refreshToken=body["refreshToken"])),
        ):
            kwargs = {"json": {"name": "Mallory"}} if method == "PUT" else {}
            answer = await client.request(method, path, headers=[*headers, *extra.items()], **kwargs)
            assert answer.status_code == 403, (method, path, answer.text)
            assert answer.json()["code"] == "forbidden"
            assert answer.headers.get_list("set-cookie") == []
        profile = await client.get("/profile", headers=bearer(body["accessToken"]))
        assert profile.status_code == 200 and profile.json()["name"] is None


async def test_a_listed_app_refreshes_and_logs_out_by_get_with_fetch(make_client: ClientFactory) -> None:
    """`fetch` from a listed sibling: `Sec-Fetch-Mode: cors` and its Origin; not a navigation."""
    async with make_client(**LISTS) as client:
        body = await signed_in(client)
        fetch = [("Sec-Fetch-Site", "same-site"), ("Sec-Fetch-Mode", "cors"), ("Origin", SIBLING)]
        refreshed = await client.get(
            "/token/refresh", headers=[*cookie_header(refreshToken=body["refreshToken"]), *fetch]
        )
        assert refreshed.status_code == 200, refreshed.text
        assert refreshed.headers["access-control-allow-origin"] == SIBLING
        fresh = refreshed.json()
        out = await client.get(
            "/token/revoke",
            headers=[*cookie_header(accessToken=fresh["accessToken"], refreshToken=fresh["refreshToken"]), *fetch],
        )
        assert out.status_code == 200, out.text
        assert (await client.get("/user", headers=bearer(fresh["accessToken"]))).status_code == 401


@pytest.mark.parametrize(
    "fetch",
    [
        [("Sec-Fetch-Site", "same-site"), ("Sec-Fetch-Mode", "navigate")],  # a link on the sibling
        [("Sec-Fetch-Site", "same-site"), ("Sec-Fetch-Mode", "navigate"), ("Origin", SIBLING)],
        [("Sec-Fetch-Site", "same-site"), ("Sec-Fetch-Mode", "cors")],  # no Origin: not a CORS fetch
        [("Sec-Fetch-Site", "same-site"), ("Sec-Fetch-Mode", "no-cors"), ("Referer", f"{SIBLING}/")],
        [("Sec-Fetch-Site", "same-site"), ("Sec-Fetch-Mode", "cors"), ("Origin", "http://evil.example.test:8080")],
        [("Sec-Fetch-Site", "cross-site"), ("Sec-Fetch-Mode", "cors"), ("Origin", "https://evil.example")],
    ],
)
async def test_a_navigation_or_an_unlisted_fetch_cannot_log_out_by_get(
    make_client: ClientFactory, fetch: list[tuple[str, str]]
) -> None:
    async with make_client(**LISTS) as client:
        body = await signed_in(client)
        both = cookie_header(accessToken=body["accessToken"], refreshToken=body["refreshToken"])
        for path in ("/token/revoke", "/token/refresh"):
            answer = await client.get(path, headers=[*both, *fetch])
            assert answer.status_code == 403, (path, answer.text)
            assert answer.headers.get_list("set-cookie") == []
        assert (await client.get("/user", headers=bearer(body["accessToken"]))).status_code == 200
