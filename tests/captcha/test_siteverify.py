"""Turnstile, hCaptcha and reCAPTCHA, each against a real siteverify server on loopback."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.app import CLIENT_IP, ClientFactory
from tests.support.captcha import BROKEN, GARBAGE, GOOD, LOW_SCORE, SECRET, SiteVerifyServer
from tests.support.http import STRONG_PASSWORD

HOSTED = ["turnstile", "hcaptcha", "recaptcha"]


def hosted(provider: str, url: str, **extra: Any) -> dict[str, Any]:
    return {"captcha_provider": provider, "captcha_secret": SECRET, "captcha_verify_url": url, **extra}


def assert_captcha_failed(response: httpx.Response) -> None:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "captcha_failed"


async def register(client: httpx.AsyncClient, *, token: str | None = None, header: str | None = None) -> httpx.Response:
    body: dict[str, Any] = {"email": "ada@example.com", "password": STRONG_PASSWORD}
    if token is not None:
        body["captchaToken"] = token
    headers = {"X-Captcha-Token": header} if header is not None else {}
    return await client.post("/register", json=body, headers=headers)


@pytest.mark.parametrize("provider", HOSTED)
async def test_bot_without_a_token_is_refused(
    make_client: ClientFactory, siteverify: SiteVerifyServer, provider: str
) -> None:
    async with make_client(**hosted(provider, siteverify.url)) as client:
        assert_captcha_failed(await register(client))


@pytest.mark.parametrize("provider", HOSTED)
async def test_forged_token_is_refused(make_client: ClientFactory, siteverify: SiteVerifyServer, provider: str) -> None:
    async with make_client(**hosted(provider, siteverify.url)) as client:
        assert_captcha_failed(await register(client, token="made-up-token"))
        assert_captcha_failed(await register(client, header="made-up-token"))


@pytest.mark.parametrize("provider", HOSTED)
async def test_solved_captcha_in_the_body_lets_a_person_register_and_sign_in(
    make_client: ClientFactory, siteverify: SiteVerifyServer, provider: str
) -> None:
    async with make_client(**hosted(provider, siteverify.url)) as client:
        before = len(siteverify.seen)
        assert (await register(client, token=GOOD)).status_code == 201
        login = await client.post(
            "/login", json={"email": "ada@example.com", "password": STRONG_PASSWORD, "captchaToken": GOOD}
        )
        assert login.status_code == 200, login.text
    asked = siteverify.seen[before:]
    assert asked == [{"secret": [SECRET], "response": [GOOD], "remoteip": [CLIENT_IP]}] * 2


@pytest.mark.parametrize("provider", HOSTED)
async def test_solved_captcha_in_the_header_is_accepted(
    make_client: ClientFactory, siteverify: SiteVerifyServer, provider: str
) -> None:
    async with make_client(**hosted(provider, siteverify.url)) as client:
        assert (await register(client, header=GOOD)).status_code == 201


@pytest.mark.parametrize("provider", HOSTED)
async def test_wrong_secret_is_refused_by_the_provider(
    make_client: ClientFactory, siteverify: SiteVerifyServer, provider: str
) -> None:
    settings = hosted(provider, siteverify.url, captcha_secret="someone-elses-secret")
    async with make_client(**settings) as client:
        assert_captcha_failed(await register(client, token=GOOD))


@pytest.mark.parametrize("provider", HOSTED)
async def test_provider_down_fails_closed(make_client: ClientFactory, closed_port_url: str, provider: str) -> None:
    async with make_client(**hosted(provider, closed_port_url)) as client:
        assert_captcha_failed(await register(client, token=GOOD))


@pytest.mark.parametrize("provider", HOSTED)
@pytest.mark.parametrize("token", [GARBAGE, BROKEN])
async def test_provider_answering_garbage_fails_closed(
    make_client: ClientFactory, siteverify: SiteVerifyServer, provider: str, token: str
) -> None:
    async with make_client(**hosted(provider, siteverify.url)) as client:
        assert_captcha_failed(await register(client, token=token))


async def test_recaptcha_low_score_bot_is_refused(make_client: ClientFactory, siteverify: SiteVerifyServer) -> None:
    async with make_client(**hosted("recaptcha", siteverify.url)) as client:
        assert_captcha_failed(await register(client, token=LOW_SCORE))
    async with make_client(**hosted("recaptcha", siteverify.url, captcha_min_score=0.05)) as client:
        assert (await register(client, token=LOW_SCORE)).status_code == 201


@pytest.mark.parametrize("provider", ["turnstile", "hcaptcha"])
async def test_score_threshold_is_only_recaptchas(
    make_client: ClientFactory, siteverify: SiteVerifyServer, provider: str
) -> None:
    """hCaptcha's enterprise score is a risk score (high is bad): no reCAPTCHA threshold on it."""
    async with make_client(**hosted(provider, siteverify.url)) as client:
        assert (await register(client, token=LOW_SCORE)).status_code == 201


async def test_oversized_token_is_refused_without_asking_the_provider(
    make_client: ClientFactory, siteverify: SiteVerifyServer
) -> None:
    async with make_client(**hosted("turnstile", siteverify.url)) as client:
        before = len(siteverify.seen)
        assert_captcha_failed(await register(client, header="x" * 5000))
    assert len(siteverify.seen) == before
