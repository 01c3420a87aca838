"""ALTCHA end to end: the widget's flow, solved for real with the altcha library."""

from __future__ import annotations

import asyncio
import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from altcha import ChallengeOptionsV1, create_challenge_v1

from tests.support.app import ClientFactory
from tests.support.captcha import solve
from tests.support.http import STRONG_PASSWORD

ALTCHA = {"captcha_provider": "altcha"}
KEY = "altcha-hmac-key-for-tests-0123456789abcdef"


def signed_elsewhere(key: str, expires: datetime | None) -> dict[str, Any]:
    """A challenge signed with `key` outside the service (to forge, or to date back)."""
    made = create_challenge_v1(ChallengeOptionsV1(max_number=1000, hmac_key=key, expires=expires))
    return {**made.to_dict(), "maxnumber": made.max_number}


async def challenge(client: httpx.AsyncClient, prefix: str = "") -> dict[str, Any]:
    response = await client.get(f"{prefix}/captcha/challenge")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def register(client: httpx.AsyncClient, token: str, email: str = "ada@example.com") -> httpx.Response:
    return await client.post("/register", json={"email": email, "password": STRONG_PASSWORD, "captchaToken": token})


def refused(response: httpx.Response) -> bool:
    return response.status_code == 400 and response.json()["code"] == "captcha_failed"


async def test_widget_flow_registers_a_person(make_client: ClientFactory) -> None:
    async with make_client(**ALTCHA) as client:
        response = await client.get("/captcha/challenge")
        assert response.headers["cache-control"] == "no-store"
        issued = response.json()
        assert set(issued) == {"algorithm", "challenge", "maxnumber", "salt", "signature"}
        assert issued["algorithm"] == "SHA-256"
        assert "expires=" in issued["salt"]
        assert (await register(client, solve(issued))).status_code == 201
        header = await client.post(
            "/login",
            json={"email": "ada@example.com", "password": STRONG_PASSWORD},
            headers={"X-Captcha-Token": solve(await challenge(client))},
        )
        assert header.status_code == 200, header.text


async def test_challenge_is_served_under_every_prefix(make_client: ClientFactory) -> None:
    async with make_client(**ALTCHA) as client:
        for prefix in ("/auth", "/api/auth", "/api/v1/auth"):
            assert (
                await register(client, solve(await challenge(client, prefix)), f"p{len(prefix)}@example.com")
            ).status_code == 201


async def test_replayed_altcha_solution_is_refused(make_client: ClientFactory) -> None:
    async with make_client(**ALTCHA) as client:
        token = solve(await challenge(client))
        assert (await register(client, token)).status_code == 201
        assert refused(await register(client, token, "bot@example.com"))
        assert refused(await client.post("/password/forgot", json={"email": "x@example.com", "captchaToken": token}))


async def test_one_altcha_solution_sent_in_parallel_passes_once(make_client: ClientFactory) -> None:
    async with make_client(**ALTCHA) as client:
        token = solve(await challenge(client))
        bodies = [{"email": f"u{n}@example.com", "captchaToken": token} for n in range(10)]
        answers = await asyncio.gather(*(client.post("/password/forgot", json=body) for body in bodies))
        assert sorted(r.status_code for r in answers) == [202] + [400] * 9


async def test_replayed_altcha_solution_is_refused_on_another_node(
    make_client: ClientFactory, redis_url: str, redis_prefix: str
) -> None:
    """Two nodes of one deployment (shared Redis and key): a solution spent on one is spent on both."""
    shared = {**ALTCHA, "captcha_secret": KEY, "redis_url": redis_url, "redis_key_prefix": redis_prefix}
    async with make_client(**shared) as first, make_client(**shared) as second:
        token = solve(await challenge(first))
        assert (await register(second, token)).status_code == 201
        assert refused(await register(first, token, "bot@example.com"))


@pytest.mark.parametrize(
    "tamper",
    [
        {"number": -1},
        {"signature": "0" * 64},
        {"algorithm": "SHA-1"},
        {"challenge": "0" * 64},
    ],
    ids=["number", "signature", "algorithm", "challenge"],
)
async def test_tampered_altcha_solution_is_refused(make_client: ClientFactory, tamper: dict[str, Any]) -> None:
    async with make_client(**ALTCHA) as client:
        assert refused(await register(client, solve(await challenge(client), **tamper)))


async def test_altcha_expiry_pushed_back_by_the_client_is_refused(make_client: ClientFactory) -> None:
    async with make_client(**ALTCHA) as client:
        issued = await challenge(client)
        nonce = issued["salt"].split("?")[0]
        later = f"{nonce}?expires={int(datetime.now(UTC).timestamp()) + 86_400}&"
        assert refused(await register(client, solve(issued, salt=later)))


async def test_expired_altcha_solution_is_refused(make_client: ClientFactory) -> None:
    async with make_client(**ALTCHA, captcha_secret=KEY) as client:
        stale = signed_elsewhere(KEY, datetime.now(UTC) - timedelta(seconds=1))
        assert refused(await register(client, solve(stale)))
        fresh = signed_elsewhere(KEY, datetime.now(UTC) + timedelta(minutes=5))
        assert (await register(client, solve(fresh))).status_code == 201  # the same key, in date: accepted


async def test_altcha_challenge_without_expiry_is_refused(make_client: ClientFactory) -> None:
    """A solution that never expires could be stockpiled; we never issue one."""
    async with make_client(**ALTCHA, captcha_secret=KEY) as client:
        assert refused(await register(client, solve(signed_elsewhere(KEY, None))))


async def test_altcha_solution_signed_with_another_key_is_refused(make_client: ClientFactory) -> None:
    async with make_client(**ALTCHA) as client:
        forged = signed_elsewhere("an attacker's own key", datetime.now(UTC) + timedelta(minutes=5))
        assert refused(await register(client, solve(forged)))


@pytest.mark.parametrize(
    "token",
    [
        "not base64 at all!",
        base64.b64encode(b"not json").decode(),
        base64.b64encode(b"[1, 2]").decode(),
        base64.b64encode(b'{"salt": 7}').decode(),
        base64.b64encode(
            b'{"algorithm": "SHA-256", "challenge": [], "number": {}, "salt": "a?expires=9999999999&", "signature": null}'
        ).decode(),
    ],
    ids=["not-base64", "not-json", "not-object", "wrong-types", "wrong-shapes"],
)
async def test_malformed_altcha_payload_is_refused_not_a_500(make_client: ClientFactory, token: str) -> None:
    async with make_client(**ALTCHA) as client:
        assert refused(await register(client, token))


@pytest.mark.parametrize(
    "settings", [{}, {"captcha_provider": "turnstile", "captcha_secret": "s"}], ids=["none", "turnstile"]
)
async def test_challenge_route_is_not_found_unless_altcha(make_client: ClientFactory, settings: dict[str, Any]) -> None:
    async with make_client(**settings) as client:
        response = await client.get("/captcha/challenge")
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


async def test_challenge_flood_is_rate_limited(make_client: ClientFactory) -> None:
    async with make_client(**ALTCHA, rate_limits="captcha.ip=3/minute") as client:
        answers = [(await client.get("/captcha/challenge")).status_code for _ in range(4)]
        assert answers == [200, 200, 200, 429]
