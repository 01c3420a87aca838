"""What `RateLimiter` promises, in this process and in Redis alike: hits up to the limit pass,
the next is a 429 naming the limit, several limits per rule each hold, keys, rules and Redis
key prefixes are counted apart, `over` looks without counting, and no raw key reaches Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import redis.asyncio as aioredis
from limits import parse_many

from authgate.abuse.limiter import RateLimiter
from authgate.errors import AuthError

RULES = {
    "login.ip": "3/minute",
    "login.identifier": "3/minute;5/hour",
    "send.recipient": "5/minute;3/hour",
}
Factory = Callable[..., RateLimiter]


@pytest.fixture
async def make_limiter(counts_in: tuple[str, str] | None) -> AsyncIterator[Factory]:
    """`make_limiter(prefix=...)`: a limiter on the storage under test. In memory every limiter
    has counts of its own; in Redis, limiters with one prefix share them."""
    clients: list[aioredis.Redis] = []

    def build(prefix: str = "") -> RateLimiter:
        rules = {name: tuple(parse_many(value)) for name, value in RULES.items()}
        if counts_in is None:
            return RateLimiter(rules)
        url, base = counts_in
        client = aioredis.Redis.from_url(url)
        clients.append(client)
        return RateLimiter(rules, client, base + prefix)

    build.shared = counts_in is not None  # type: ignore[attr-defined]
    yield build
    for client in clients:
        await client.aclose()


async def refused(limiter: RateLimiter, rule: str, key: str) -> AuthError:
    with pytest.raises(AuthError) as caught:
        await limiter.hit(rule, key)
    return caught.value


async def test_hits_up_to_the_limit_pass_and_the_next_is_refused(make_limiter: Factory) -> None:
    limiter = make_limiter()
    for _ in range(3):
        await limiter.hit("login.ip", "198.51.100.1")
    error = await refused(limiter, "login.ip", "198.51.100.1")
    assert error.status == 429 and error.code == "rate_limited"
    assert error.headers["RateLimit-Limit"] == "3" and error.headers["RateLimit-Remaining"] == "0"
    assert 1 <= int(error.headers["Retry-After"]) <= 60
    # Refused hits are not counted as more: still refused, and no sooner or later.
    again = await refused(limiter, "login.ip", "198.51.100.1")
    assert abs(int(again.headers["Retry-After"]) - int(error.headers["Retry-After"])) <= 1


async def test_each_of_several_limits_holds(make_limiter: Factory) -> None:
    limiter = make_limiter()
    for _ in range(3):
        await limiter.hit("login.identifier", "email:ada@example.com")
    assert (await refused(limiter, "login.identifier", "email:ada@example.com")).headers["RateLimit-Limit"] == "3"
    # Here the longer window is the tighter one: it is the one named, with its longer wait.
    for _ in range(3):
        await limiter.hit("send.recipient", "sms:+14155550100")
    error = await refused(limiter, "send.recipient", "sms:+14155550100")
    assert error.headers["RateLimit-Limit"] == "3"
    assert 60 < int(error.headers["Retry-After"]) <= 3600


async def test_keys_and_rules_are_counted_apart(make_limiter: Factory) -> None:
    limiter = make_limiter()
    for _ in range(3):
        await limiter.hit("login.ip", "198.51.100.1")
    await refused(limiter, "login.ip", "198.51.100.1")
    await limiter.hit("login.ip", "198.51.100.2")  # another key
    await limiter.hit("login.identifier", "198.51.100.1")  # the same key under another rule


async def test_a_rule_not_in_force_and_a_missing_key_are_never_limited(make_limiter: Factory) -> None:
    limiter = make_limiter()
    assert not limiter.limits("oauth.ip") and limiter.limits("login.ip")
    for _ in range(10):
        await limiter.hit("oauth.ip", "198.51.100.1")
        await limiter.hit("login.ip", None)
    assert not await limiter.over("oauth.ip", "198.51.100.1")


async def test_over_looks_without_counting(make_limiter: Factory) -> None:
    limiter = make_limiter()
    for _ in range(10):
        assert not await limiter.over("login.ip", "198.51.100.1")
    for _ in range(3):
        await limiter.hit("login.ip", "198.51.100.1")
    assert await limiter.over("login.ip", "198.51.100.1")
    assert not await limiter.over("login.ip", "198.51.100.2")


async def test_limiters_share_counts_exactly_when_they_share_storage_and_prefix(make_limiter: Factory) -> None:
    first, same, other = make_limiter("a:"), make_limiter("a:"), make_limiter("b:")
    for limiter in (first, same, first):
        await limiter.hit("login.ip", "198.51.100.1")
    if make_limiter.shared:  # type: ignore[attr-defined]
        await refused(same, "login.ip", "198.51.100.1")  # one Redis, one prefix: one count
    else:
        await same.hit("login.ip", "198.51.100.1")  # in memory: each process its own
    for _ in range(3):
        await other.hit("login.ip", "198.51.100.1")  # another prefix: another deployment


async def test_no_raw_key_reaches_redis(redis_url: str, redis_prefix: str) -> None:
    client: Any = aioredis.Redis.from_url(redis_url)
    try:
        limiter = RateLimiter({"send.recipient": tuple(parse_many("5/minute"))}, client, redis_prefix)
        await limiter.hit("send.recipient", "email:ada@example.com")
        keys = [key async for key in client.scan_iter(match=redis_prefix + "*")]
    finally:
        await client.aclose()
    assert keys, "the hit was stored under the prefix"
    assert not any(b"ada" in key for key in keys)
