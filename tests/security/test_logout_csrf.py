"""Logout and refresh CSRF by GET: SameSite=Lax cookies ride along on a top-level navigation
started by a sibling site (`Sec-Fetch-Site: same-site`), often with no Origin or Referer. A
cookie-only GET to /token/revoke or /token/refresh must come from our own page (`same-origin`)
or from the user (`none`); without fetch metadata (curl, a server) the Origin rule applies."""

from __future__ import annotations

import httpx
import pytest

from tests.support.http import bearer, cookie_header, login, register, set_cookies


async def signed_in(client: httpx.AsyncClient) -> dict[str, str]:
    await register(client)
    return dict((await login(client)).json())


def cookies_of(body: dict[str, str]) -> list[tuple[str, str]]:
    return cookie_header(accessToken=body["accessToken"], refreshToken=body["refreshToken"])


async def assert_alive(client: httpx.AsyncClient, body: dict[str, str]) -> None:
    assert (await client.get("/user", headers=bearer(body["accessToken"]))).status_code == 200


@pytest.mark.parametrize("site", ["same-site", "cross-site", "SAME-SITE"])
async def test_sibling_or_foreign_site_get_cannot_log_out(client: httpx.AsyncClient, site: str) -> None:
    body = await signed_in(client)
    response = await client.get("/token/revoke", headers=[*cookies_of(body), ("Sec-Fetch-Site", site)])
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "forbidden"
    assert response.headers.get_list("set-cookie") == []  # the cookies are not deleted either
    await assert_alive(client, body)
    assert (await client.post("/refresh", json={"refreshToken": body["refreshToken"]})).status_code == 200


async def test_sibling_site_get_with_our_origin_in_referer_cannot_log_out(client: httpx.AsyncClient) -> None:
    """A Referer naming one of our pages does not make a sibling's navigation our own."""
    body = await signed_in(client)
    headers = [*cookies_of(body), ("Sec-Fetch-Site", "same-site"), ("Referer", "http://testserver/app")]
    assert (await client.get("/token/revoke", headers=headers)).status_code == 403
    await assert_alive(client, body)


async def test_sibling_site_get_cannot_refresh(client: httpx.AsyncClient) -> None:
    body = await signed_in(client)
    response = await client.get(
        "/token/refresh",
        headers=[*cookie_header(refreshToken=body["refreshToken"]), ("Sec-Fetch-Site", "same-site")],
    )
    assert response.status_code == 403 and response.json()["code"] == "forbidden"
    assert response.headers.get_list("set-cookie") == []
    # The refresh token was not used up: it still refreshes once, from our own page.
    ours = await client.get(
        "/token/refresh",
        headers=[*cookie_header(refreshToken=body["refreshToken"]), ("Sec-Fetch-Site", "same-origin")],
    )
    assert ours.status_code == 200, ours.text


@pytest.mark.parametrize("site", ["same-origin", "none"])
async def test_our_own_page_or_the_user_can_log_out_by_get(client: httpx.AsyncClient, site: str) -> None:
    body = await signed_in(client)
    response = await client.get("/token/revoke", headers=[*cookies_of(body), ("Sec-Fetch-Site", site)])
    assert response.status_code == 200, response.text
    assert set(set_cookies(response)) == {"accessToken", "refreshToken"}  # deleted
    assert (await client.get("/user", headers=bearer(body["accessToken"]))).status_code == 401


async def test_curl_without_fetch_metadata_or_origin_can_log_out_and_refresh(client: httpx.AsyncClient) -> None:
    body = await signed_in(client)
    refreshed = await client.get("/token/refresh", headers=cookie_header(refreshToken=body["refreshToken"]))
    assert refreshed.status_code == 200, refreshed.text
    fresh = refreshed.json()
    assert (await client.get("/token/revoke", headers=cookies_of(fresh))).status_code == 200
    assert (await client.get("/user", headers=bearer(fresh["accessToken"]))).status_code == 401


async def test_get_without_fetch_metadata_from_a_foreign_origin_is_still_refused(client: httpx.AsyncClient) -> None:
    body = await signed_in(client)
    headers = [*cookies_of(body), ("Referer", "https://evil.example/page")]
    assert (await client.get("/token/revoke", headers=headers)).status_code == 403
    await assert_alive(client, body)


async def test_bearer_get_logout_needs_no_fetch_metadata(client: httpx.AsyncClient) -> None:
    """Another site cannot make a browser send our Authorization header."""
    body = await signed_in(client)
    headers = {**bearer(body["accessToken"]), "Sec-Fetch-Site": "cross-site"}
    assert (await client.get("/token/revoke", headers=headers)).status_code == 200
    assert (await client.get("/user", headers=bearer(body["accessToken"]))).status_code == 401
