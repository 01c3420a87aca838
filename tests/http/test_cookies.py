"""Cookie mode: which responses set the cookies, their attributes, and cookie authentication."""

from __future__ import annotations

import httpx

from tests.support.app import ClientFactory
from tests.support.http import STRONG_PASSWORD, cookie_header, login, register, set_cookies


async def test_login_sets_both_cookies_with_the_spec_attributes(client: httpx.AsyncClient) -> None:
    await register(client)
    response = await login(client)
    body = response.json()
    cookies = set_cookies(response)
    assert cookies["accessToken"]["value"] == body["accessToken"]
    assert cookies["refreshToken"]["value"] == body["refreshToken"]
    for name, max_age in (("accessToken", "900"), ("refreshToken", "2592000")):
        attrs = cookies[name]
        assert attrs["max-age"] == max_age
        assert "httponly" in attrs
        assert attrs["samesite"].lower() == "lax"
        assert attrs["path"] == "/"
        assert "secure" not in attrs  # AUTHGATE_COOKIE_SECURE=false in these tests


async def test_cookie_lifetimes_and_secure_follow_the_settings(make_client: ClientFactory) -> None:
    async with make_client(cookie_secure=True, jwt_expiration_ms=60_000, refresh_token_ttl_seconds=86_400) as client:
        await register(client)
        cookies = set_cookies(await login(client))
        assert cookies["accessToken"]["max-age"] == "60"
        assert cookies["refreshToken"]["max-age"] == "86400"
        assert "secure" in cookies["accessToken"] and "secure" in cookies["refreshToken"]


async def test_login_with_set_cookie_false_sets_none(client: httpx.AsyncClient) -> None:
    await register(client)
    response = await login(client, options={"setCookie": False})
    assert response.headers.get_list("set-cookie") == []
    assert response.json()["refreshToken"]


async def test_register_sets_cookies_only_when_asked(client: httpx.AsyncClient) -> None:
    plain = await register(client, email="a@example.com")
    assert plain.headers.get_list("set-cookie") == []
    asked = await register(client, email="b@example.com", options={"setCookie": True})
    cookies = set_cookies(asked)
    assert cookies["accessToken"]["value"] == asked.json()["accessToken"]
    assert cookies["refreshToken"]["value"] == asked.json()["refreshToken"]


async def test_the_access_cookie_authenticates(client: httpx.AsyncClient) -> None:
    await register(client)
    body = (await login(client)).json()
    response = await client.get("/profile", headers=cookie_header(accessToken=body["accessToken"]))
    assert response.status_code == 200
    assert response.json()["email"] == "ada@example.com"


async def test_cookies_in_two_separate_cookie_headers_both_count(client: httpx.AsyncClient) -> None:
    await register(client)
    body = (await login(client)).json()
    # The access cookie in the second header must be found, not just the first header's.
    headers = cookie_header(theme="dark", accessToken=body["accessToken"])
    assert (await client.get("/user", headers=headers)).status_code == 200
    refreshed = await client.post(
        "/auth/refresh", headers=cookie_header(accessToken=body["accessToken"], refreshToken=body["refreshToken"])
    )
    assert refreshed.status_code == 200, refreshed.text


async def test_a_forged_or_missing_access_cookie_is_401(client: httpx.AsyncClient) -> None:
    await register(client)
    body = (await login(client)).json()
    forged = body["accessToken"][:-4] + ("AAAA" if not body["accessToken"].endswith("AAAA") else "BBBB")
    for headers in (cookie_header(accessToken=forged), cookie_header(accessToken=""), cookie_header(other="x")):
        response = await client.get("/profile", headers=headers)
        assert response.status_code == 401
        assert response.json()["code"] == "invalid_token"


async def test_the_refresh_token_is_not_an_access_token(client: httpx.AsyncClient) -> None:
    await register(client)
    body = (await login(client)).json()
    assert (await client.get("/profile", headers=cookie_header(accessToken=body["refreshToken"]))).status_code == 401
    bearer_refresh = {"Authorization": f"Bearer {body['refreshToken']}"}
    assert (await client.get("/profile", headers=bearer_refresh)).status_code == 401


async def test_browser_flow_with_the_cookie_jar(client: httpx.AsyncClient) -> None:
    """What a browser does: log in, use the cookie, refresh by cookie, log out."""
    await register(client)
    login_response = await client.post("/login", json={"email": "ada@example.com", "password": STRONG_PASSWORD})
    assert login_response.status_code == 200
    assert (await client.get("/profile")).status_code == 200
    refreshed = await client.post("/refresh")
    assert refreshed.status_code == 200
    assert client.cookies["refreshToken"] == refreshed.json()["refreshToken"]
    assert (await client.post("/logout")).status_code == 200
    assert "accessToken" not in client.cookies and "refreshToken" not in client.cookies
    assert (await client.get("/profile")).status_code == 401
