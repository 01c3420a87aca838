"""Rate limits shared through Redis: two app instances (and two real server processes) on one
Redis count together, other key prefixes apart; and when Redis stops mid-run, requests are
still answered, the limits hold from each process's own counts, and the shared counts are
used again once Redis is back."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from authgate.abuse import limiter as limiter_module
from authgate.abuse.limiter import RateLimiter
from authgate.abuse.rules import parse_rules
from authgate.errors import AuthError
from tests.support.app import ClientFactory
from tests.support.databases import PrivateRedis
from tests.support.limits import assert_limited, assert_not_limited, redis_keys
from tests.support.server import free_port, running_server


async def test_two_apps_on_one_redis_share_counts(
    make_client: ClientFactory, redis_url: str, redis_prefix: str
) -> None:
    shared = {"redis_url": redis_url, "redis_key_prefix": redis_prefix, "rate_limits": "oauth.ip=3/minute"}
    async with make_client(**shared) as first, make_client(**shared) as second:
        for client in (first, second, first):
            assert_not_limited(await client.get("/oauth/nowhere"))
        assert_limited(await second.get("/oauth/nowhere"), limit=3)
        assert_limited(await first.get("/oauth/nowhere"), limit=3)
        assert await redis_keys(first, redis_prefix)
        # A deployment with another prefix on the same Redis counts on its own.
        async with make_client(**{**shared, "redis_key_prefix": redis_prefix + "other:"}) as elsewhere:
            assert_not_limited(await elsewhere.get("/oauth/nowhere"))


async def test_two_apps_on_one_redis_share_sending_counts(
    make_client: ClientFactory, redis_url: str, redis_prefix: str
) -> None:
    shared = {"redis_url": redis_url, "redis_key_prefix": redis_prefix, "rate_limits": "send.recipient=2/minute"}
    async with make_client(**shared) as first, make_client(**shared) as second:
        body = {"email": "ada@example.com"}
        assert (await first.post("/password/forgot", json=body)).status_code == 202
        assert (await second.post("/login/magic", json=body)).status_code == 202
        assert_limited(await first.post("/email/verify", json=body), limit=2)


@pytest.mark.slow
async def test_two_server_processes_on_one_redis_share_counts(
    tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    env = {
        "AUTHGATE_REDIS_URL": redis_url,
        "AUTHGATE_REDIS_KEY_PREFIX": redis_prefix,
        "AUTHGATE_RATE_LIMITS": "oauth.ip=3/minute",
    }
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with running_server(tmp_path / "a", **env) as a, running_server(tmp_path / "b", **env) as b:
        async with httpx.AsyncClient() as http:
            for base in (a, b, a):
                assert_not_limited(await http.get(f"{base}/oauth/nowhere"))
            assert_limited(await http.get(f"{b}/oauth/nowhere"), limit=3)


# --- Redis stopping mid-run -------------------------------------------------------------------


async def test_redis_stopping_mid_run(
    make_client: ClientFactory, private_redis: PrivateRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limiter_module, "RETRY_SHARED_AFTER", 0.3)  # try Redis again sooner than 5 s
    prefix = "authgate-test:"
    settings: dict[str, Any] = {
        "redis_url": private_redis.url,
        "redis_key_prefix": prefix,
        "rate_limits": "password_forgot.ip=4/minute, send.recipient=off",
    }
    asked = 0

    async def forgot(client: httpx.AsyncClient) -> int:
        nonlocal asked
        asked += 1
        response = await client.post("/password/forgot", json={"email": f"user{asked}@example.com"})
        assert response.status_code in {202, 429}, response.text  # answered, never a 5xx
        if response.status_code == 429:
            assert_limited(response, limit=4)
        return response.status_code

    async with make_client(**settings) as first, make_client(**settings) as second:
        assert [await forgot(c) for c in (first, second, first, second, first)] == [202] * 4 + [429]
        assert await redis_keys(first, prefix)

        private_redis.kill()
        # Each process counts on its own now (from zero, as Redis took the counts with it),
        # and the limit still holds there.
        assert [await forgot(first) for _ in range(6)] == [202] * 4 + [429] * 2
        assert [await forgot(second) for _ in range(5)] == [202] * 4 + [429]
        await asyncio.sleep(0.4)  # Redis is tried again, still down: still counted locally
        assert await forgot(first) == 429

        private_redis.start()  # back, and empty
        await asyncio.sleep(0.4)
        # Shared again: two processes, one count.
        assert [await forgot(c) for c in (second, first, second, first, second)] == [202] * 4 + [429]
        assert await redis_keys(first, prefix)


async def test_a_limiter_whose_redis_never_answers_counts_locally() -> None:
    dead = redis.asyncio.Redis(port=free_port(), socket_connect_timeout=0.5)  # nothing listens there
    try:
        limiter = RateLimiter(parse_rules("login.ip=2/minute"), dead, "authgate-test:")
        await limiter.hit("login.ip", "198.51.100.1")
        await limiter.hit("login.ip", "198.51.100.1")
        with pytest.raises(AuthError, match="rate_limited"):
            await limiter.hit("login.ip", "198.51.100.1")
        assert await limiter.over("login.ip", "198.51.100.1")
        assert not await limiter.over("login.ip", "198.51.100.2")
    finally:
        await dead.aclose()
