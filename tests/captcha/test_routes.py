"""Every route bots abuse asks for the CAPTCHA once a provider is configured; none does without one."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.app import ClientFactory
from tests.support.captcha import GOOD, SECRET, SiteVerifyServer
from tests.support.http import STRONG_PASSWORD

# (path, body, the route's own answer once the CAPTCHA passed)
GUARDED = [
    ("/register", {"email": "bob@example.com", "password": STRONG_PASSWORD}, 201),
    ("/login", {"email": "nobody@example.com", "password": STRONG_PASSWORD}, 401),
    ("/password/forgot", {"email": "nobody@example.com"}, 202),
    ("/login/magic", {"email": "nobody@example.com"}, 202),
    ("/otp/send", {"channel": "email", "email": "nobody@example.com"}, 202),
]
IDS = [path for path, _, _ in GUARDED]


@pytest.mark.parametrize(("path", "body", "status"), GUARDED, ids=IDS)
async def test_each_abusable_route_requires_the_captcha(
    make_client: ClientFactory, siteverify: SiteVerifyServer, path: str, body: dict[str, Any], status: int
) -> None:
    settings = {"captcha_provider": "turnstile", "captcha_secret": SECRET, "captcha_verify_url": siteverify.url}
    async with make_client(**settings) as client:
        missing = await client.post(path, json=body)
        assert missing.status_code == 400, missing.text
        assert missing.json()["code"] == "captcha_failed"
        wrong = await client.post(path, json={**body, "captchaToken": "nope"})
        assert wrong.json()["code"] == "captcha_failed"
        solved = await client.post(path, json={**body, "captchaToken": GOOD})
        assert solved.status_code == status, solved.text


@pytest.mark.parametrize(("path", "body", "status"), GUARDED, ids=IDS)
async def test_no_captcha_is_asked_without_a_provider(
    make_client: ClientFactory, path: str, body: dict[str, Any], status: int
) -> None:
    async with make_client() as client:
        response = await client.post(path, json=body)
        assert response.status_code == status, response.text


async def test_routes_with_their_own_defences_ask_for_no_captcha(
    make_client: ClientFactory, siteverify: SiteVerifyServer
) -> None:
    """Following a link or entering a code is limited per target instead: a CAPTCHA there would
    only stand in the way of the person who asked for it."""
    settings = {"captcha_provider": "turnstile", "captcha_secret": SECRET, "captcha_verify_url": siteverify.url}
    async with make_client(**settings) as client:
        verify = await client.post("/otp/verify", json={"channel": "email", "email": "a@example.com", "code": "000000"})
        assert verify.status_code == 401, verify.text


async def test_openapi_documents_the_token_on_each_body(make_client: ClientFactory) -> None:
    async with make_client() as client:
        schemas = (await client.get("/openapi.json")).json()["components"]["schemas"]
    for name in ("RegisterIn", "LoginIn", "LinkRequestIn", "OtpSendIn"):
        assert "captchaToken" in schemas[name]["properties"], name


async def test_no_route_prefix_skips_the_captcha(make_client: ClientFactory, siteverify: SiteVerifyServer) -> None:
    settings = {"captcha_provider": "hcaptcha", "captcha_secret": SECRET, "captcha_verify_url": siteverify.url}
    async with make_client(**settings) as client:
        for prefix in ("", "/auth", "/api/auth", "/api/v1/auth"):
            email = f"p{len(prefix)}@example.com"
            body = {"email": email, "password": STRONG_PASSWORD, "captchaToken": GOOD}
            assert (await client.post(f"{prefix}/register", json=body)).status_code == 201
            refused = await client.post(f"{prefix}/register", json={"email": "x" + email, "password": STRONG_PASSWORD})
            assert refused.json()["code"] == "captcha_failed"
