"""AUTHGATE_CAPTCHA_WHEN=suspicious: no CAPTCHA for a quiet address; one once it failed sign-ins.

The failures reach the CAPTCHA through `note_failure`, which sign-in calls for every failed
secret check: the first test makes them with wrong passwords; the others call it as sign-in
does, with the client's address."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from authgate.captcha import note_failure
from authgate.captcha.suspicion import SUSPICIOUS_AFTER
from tests.support.app import CLIENT_IP, ClientFactory, runtime
from tests.support.captcha import GOOD, SECRET, SiteVerifyServer
from tests.support.http import STRONG_PASSWORD, from_address

OTHER_IP = "198.51.100.23"


def suspicious_mode(url: str, **extra: Any) -> dict[str, Any]:
    return {
        "captcha_provider": "turnstile",
        "captcha_secret": SECRET,
        "captcha_verify_url": url,
        "captcha_when": "suspicious",
        **extra,
    }


async def login(client: httpx.AsyncClient, **extra: Any) -> httpx.Response:
    return await client.post("/login", json={"email": "ada@example.com", "password": STRONG_PASSWORD, **extra})


async def test_password_guessing_address_must_then_solve_a_captcha(
    make_client: ClientFactory, siteverify: SiteVerifyServer
) -> None:
    async with make_client(**suspicious_mode(siteverify.url)) as client:
        assert (
            await client.post("/register", json={"email": "ada@example.com", "password": STRONG_PASSWORD})
        ).status_code == 201
        assert (await login(client)).status_code == 200  # a quiet address: no CAPTCHA asked
        for _ in range(SUSPICIOUS_AFTER - 1):
            assert (await login(client, password="Wrong-Pass-123")).status_code == 401
        assert (await login(client)).status_code == 200  # not yet
        assert (await login(client, password="Wrong-Pass-123")).status_code == 401
        refused = await login(client)
        assert refused.status_code == 400 and refused.json()["code"] == "captcha_failed"
        assert (await login(client, captchaToken=GOOD)).status_code == 200
        async with from_address(client, OTHER_IP) as other:
            assert (await login(other)).status_code == 200  # another address is not affected


async def test_suspicion_covers_the_whole_ipv6_64(make_client: ClientFactory, siteverify: SiteVerifyServer) -> None:
    """Rotating through the addresses of one /64 does not shake the suspicion off."""
    async with make_client(**suspicious_mode(siteverify.url)) as client:
        for n in range(SUSPICIOUS_AFTER):
            await note_failure(runtime(client), f"2001:db8:1:2::{n + 1:x}")
        async with from_address(client, "2001:db8:1:2:ffff::9") as same_network:
            assert (await same_network.post("/password/forgot", json={"email": "a@example.com"})).status_code == 400
        async with from_address(client, "2001:db8:1:3::1") as elsewhere:
            assert (await elsewhere.post("/password/forgot", json={"email": "a@example.com"})).status_code == 202


async def test_suspicion_is_shared_by_every_node(
    make_client: ClientFactory, siteverify: SiteVerifyServer, redis_url: str, redis_prefix: str
) -> None:
    settings = suspicious_mode(siteverify.url, redis_url=redis_url, redis_key_prefix=redis_prefix)
    async with make_client(**settings) as first, make_client(**settings) as second:
        for _ in range(SUSPICIOUS_AFTER):
            await note_failure(runtime(first), CLIENT_IP)
        answer = await second.post("/login/magic", json={"email": "a@example.com"})
        assert answer.status_code == 400 and answer.json()["code"] == "captcha_failed"


async def test_unreachable_shared_state_asks_everyone_for_a_captcha(
    make_client: ClientFactory, siteverify: SiteVerifyServer, closed_port_url: str
) -> None:
    """Without the counts, suspicion cannot be ruled out: fail closed."""
    redis_down = closed_port_url.replace("http://", "redis://").removesuffix("/siteverify")
    async with make_client(**suspicious_mode(siteverify.url, redis_url=redis_down)) as client:
        await note_failure(runtime(client), CLIENT_IP)  # does not raise
        answer = await client.post("/otp/send", json={"channel": "email", "email": "a@example.com"})
        assert answer.status_code == 400 and answer.json()["code"] == "captcha_failed"
        solved = await client.post(
            "/otp/send", json={"channel": "email", "email": "a@example.com", "captchaToken": GOOD}
        )
        assert solved.status_code == 202, solved.text


@pytest.mark.parametrize("when", ["always", "suspicious"])
async def test_failures_are_not_counted_without_a_provider(make_client: ClientFactory, when: str) -> None:
    async with make_client(captcha_when=when) as client:
        for _ in range(SUSPICIOUS_AFTER + 1):
            await note_failure(runtime(client), CLIENT_IP)
        assert (await client.post("/password/forgot", json={"email": "a@example.com"})).status_code == 202
