"""AUTHGATE_COOKIE_DOMAIN: the auth cookies are set for the parent domain on login and refresh,
deleted there and host-only on logout; the social-login binding cookie stays host-only."""

from __future__ import annotations

import httpx

from tests.support.app import ClientFactory
from tests.support.http import cookie_header, login, register
from tests.support.social import SocialClientFactory

DOMAIN = {"public_url": "http://auth.example.test", "cookie_domain": "example.test"}


def set_cookie_lines(response: httpx.Response) -> list[dict[str, str]]:
    """Every Set-Cookie as `{"name": ..., "value": ..., "<attribute>": ...}`, in order (one name
    may appear twice: once for the domain, once host-only)."""
    lines = []
    for header in response.headers.get_list("set-cookie"):
        first, *attrs = [part.strip() for part in header.split(";")]
        name, _, value = first.partition("=")
        entry = {"name": name, "value": value.strip('"')}
        for attr in attrs:
            key, _, val = attr.partition("=")
            entry[key.lower()] = val
        lines.append(entry)
    return lines


async def test_login_and_refresh_set_the_cookies_for_the_parent_domain(make_client: ClientFactory) -> None:
    async with make_client(**DOMAIN) as client:
        await register(client)
        signed_in = await login(client)
        refreshed = await client.post("/refresh", headers=cookie_header(refreshToken=signed_in.json()["refreshToken"]))
        assert refreshed.status_code == 200, refreshed.text
        for response in (signed_in, refreshed):
            cookies = set_cookie_lines(response)
            assert sorted(c["name"] for c in cookies) == ["accessToken", "refreshToken"]
            for cookie in cookies:
                assert cookie["domain"] == "example.test", cookie
                assert cookie["path"] == "/" and "httponly" in cookie and cookie["samesite"] == "lax"
                assert int(cookie["max-age"]) > 0


async def test_logout_deletes_the_domain_cookies_and_host_only_leftovers(make_client: ClientFactory) -> None:
    async with make_client(**DOMAIN) as client:
        await register(client)
        body = (await login(client)).json()
        out = await client.post(
            "/logout", headers=cookie_header(accessToken=body["accessToken"], refreshToken=body["refreshToken"])
        )
        assert out.status_code == 200, out.text
        deleted = {(c["name"], c.get("domain")) for c in set_cookie_lines(out) if c["max-age"] == "0"}
        assert deleted == {
            ("accessToken", "example.test"),
            ("refreshToken", "example.test"),
            ("accessToken", None),
            ("refreshToken", None),
        }


async def test_without_the_setting_the_cookies_are_host_only(client: httpx.AsyncClient) -> None:
    await register(client)
    body = (await login(client)).json()
    signed_in = await client.post("/refresh", headers=cookie_header(refreshToken=body["refreshToken"]))
    out = await client.post("/logout", headers=cookie_header(accessToken=signed_in.json()["accessToken"]))
    for response in (signed_in, out):
        cookies = set_cookie_lines(response)
        assert len(cookies) == 2 and all("domain" not in c for c in cookies), cookies


async def test_the_social_login_binding_cookie_stays_host_only(social: SocialClientFactory) -> None:
    async with social(
        cookie_secure=True, public_url="https://auth.example.test", cookie_domain="example.test"
    ) as client:
        started = await client.get("/oauth/acme")
        assert started.status_code == 302, started.text
        (binding,) = set_cookie_lines(started)
        assert binding["name"] == "__Host-oauthBrowser"
        assert "domain" not in binding and binding["path"] == "/" and "secure" in binding
