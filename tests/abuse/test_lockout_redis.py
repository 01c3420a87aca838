"""The lockout across nodes (two app instances on one Redis and one database) and when Redis
goes away mid-run: sign-ins that Redis guards are refused (503, fail closed) until it is
back, and nothing answers 500."""

from __future__ import annotations

from tests.support.app import ClientFactory
from tests.support.databases import PrivateRedis
from tests.support.http import STRONG_PASSWORD, register

WRONG = {"email": "ada@example.com", "password": "Wrong-Pass-123"}
RIGHT = {"email": "ada@example.com", "password": STRONG_PASSWORD}


async def test_a_lockout_is_reached_through_two_nodes(
    make_client: ClientFactory, redis_url: str, redis_prefix: str
) -> None:
    shared = {"redis_url": redis_url, "redis_key_prefix": redis_prefix}
    async with make_client(**shared) as one, make_client(**shared) as two:
        await register(one)
        for node in (one, two, one, two, one):
            assert (await node.post("/login", json=WRONG)).status_code == 401
        for node in (one, two):
            locked = await node.post("/login", json=RIGHT)
            assert locked.status_code == 429 and locked.json()["code"] == "account_locked"


async def test_lockout_fails_closed_while_redis_is_away(
    make_client: ClientFactory, private_redis: PrivateRedis
) -> None:
    async with make_client(redis_url=private_redis.url) as client:
        await register(client)
        for _ in range(3):
            assert (await client.post("/login", json=WRONG)).status_code == 401

        private_redis.kill()
        away = await client.post("/login", json=RIGHT)
        assert away.status_code == 503, away.text
        assert away.json()["code"] == "temporarily_unavailable"
        assert away.headers["retry-after"]

        private_redis.start()  # an empty Redis: the counts are gone with the old one
        back = await client.post("/login", json=RIGHT)
        assert back.status_code == 200, back.text
