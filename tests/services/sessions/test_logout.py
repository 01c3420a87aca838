"""Logout (`POST /logout`, `GET|POST /token/revoke`): the session ends, both cookies go."""

from __future__ import annotations

import httpx
import pytest

from tests.support.app import ClientFactory, runtime
from tests.support.http import bearer, cookie_header, login, register, set_cookies

PATHS = [("POST", "/logout"), ("POST", "/token/revoke"), ("GET", "/token/revoke")]


def _assert_cookies_deleted(response: httpx.Response) -> None:
    cookies = set_cookies(response)
    for name in ("accessToken", "refreshToken"):
        assert cookies[name]["max-age"] == "0"
        assert cookies[name]["value"] == ""
        assert "httponly" in cookies[name] and cookies[name]["path"] == "/"


async def _dead(client: httpx.AsyncClient, body: dict[str, str]) -> None:
    assert (await client.get("/profile", headers=bearer(body["accessToken"]))).status_code == 401
    assert (await client.post("/refresh", json={"refreshToken": body["refreshToken"]})).status_code == 401


@pytest.mark.parametrize(("method", "path"), PATHS)
async def test_logout_by_cookies_kills_both_tokens(client: httpx.AsyncClient, method: str, path: str) -> None:
    await register(client)
    body = (await login(client)).json()
    response = await client.request(
        method,
        f"/auth{path}",
        headers=cookie_header(accessToken=body["accessToken"], refreshToken=body["refreshToken"]),
    )
    assert response.status_code == 200
    assert response.json() == {"message": "Logout successful"}
    _assert_cookies_deleted(response)
    await _dead(client, body)


async def test_logout_by_bearer_kills_the_session(client: httpx.AsyncClient) -> None:
    await register(client)
    body = (await login(client)).json()
    other = (await login(client)).json()
    response = await client.post("/logout", headers=bearer(body["accessToken"]))
    assert response.status_code == 200
    await _dead(client, body)
    assert (await client.get("/profile", headers=bearer(other["accessToken"]))).status_code == 200


async def test_logout_by_refresh_token_in_the_body(client: httpx.AsyncClient) -> None:
    await register(client)
    body = (await login(client)).json()
    assert (await client.post("/logout", json={"refreshToken": body["refreshToken"]})).status_code == 200
    await _dead(client, body)


async def test_expired_access_token_with_a_valid_refresh_cookie_still_ends_the_session(
    make_client: ClientFactory,
) -> None:
    async with make_client() as client:  # the expired token is made below; the real one must stay valid
        await register(client)
        body = (await login(client)).json()
        codec = runtime(client).codec
        sid = codec.decode_known(body["accessToken"], purpose="access")["sid"]
        expired = codec.encode({"sub": body["user"]["id"], "sid": sid}, purpose="access", ttl_seconds=-10)
        response = await client.post(
            "/logout", headers=cookie_header(accessToken=expired, refreshToken=body["refreshToken"])
        )
        assert response.status_code == 200
        _assert_cookies_deleted(response)
        assert (await client.post("/refresh", json={"refreshToken": body["refreshToken"]})).status_code == 401
        assert (await client.get("/profile", headers=bearer(body["accessToken"]))).status_code == 401


async def test_logout_with_nothing_valid_is_still_200_and_clears_cookies(client: httpx.AsyncClient) -> None:
    for headers in ([], cookie_header(accessToken="junk", refreshToken="junk"), [("Authorization", "Bearer junk")]):
        response = await client.post("/logout", headers=headers)
        assert response.status_code == 200
        assert response.json() == {"message": "Logout successful"}
        _assert_cookies_deleted(response)


async def test_logout_twice_is_fine(client: httpx.AsyncClient) -> None:
    await register(client)
    body = (await login(client)).json()
    for _ in range(2):
        assert (await client.post("/logout", headers=bearer(body["accessToken"]))).status_code == 200
