"""What a 429 from a rate limit must look like, and the keys the limits keep in Redis (another
client address on the same app is http.from_address)."""

from __future__ import annotations

import httpx

from tests.support.app import runtime


def assert_limited(response: httpx.Response, *, limit: int, within: int = 60) -> None:
    """429 `rate_limited`, naming the limit reached and when to come back (at most `within` s)."""
    assert response.status_code == 429, (response.status_code, response.text)
    assert response.json()["code"] == "rate_limited"
    headers = response.headers
    assert headers["RateLimit-Limit"] == str(limit)
    assert headers["RateLimit-Remaining"] == "0"
    retry_after = int(headers["Retry-After"])
    assert 1 <= retry_after <= within
    assert abs(int(headers["RateLimit-Reset"]) - retry_after) <= 1


def assert_not_limited(response: httpx.Response) -> None:
    assert response.status_code != 429, response.text
    assert response.status_code < 500, response.text


async def redis_keys(client: httpx.AsyncClient, prefix: str) -> list[bytes]:
    """The keys the app's runtime holds in Redis under `prefix`."""
    redis = runtime(client).redis
    assert redis is not None
    return [key async for key in redis.scan_iter(match=prefix + "*")]
