"""Request and sending rate limits, counted with the `limits` library (moving windows).

With `AUTHGATE_REDIS_URL` the counts live in Redis, so that every node shares them; without
it, in this process. When Redis stops answering, counting goes on in this process and Redis
is tried again a few seconds later: rate limits fall back to per node rather than stopping
sign-ins or letting everything through (docs/abuse-protection.md).

Keys are hashed before they are stored, so no address or phone number sits in Redis.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from limits import RateLimitItem
from limits.aio.storage import MemoryStorage, RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter

from authgate.errors import rate_limited
from authgate.observability.logging import get_logger

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = get_logger("authgate.abuse")

RETRY_SHARED_AFTER = 5.0  # seconds to count locally after Redis failed, before trying it again


def hashed(key: str) -> str:
    return hashlib.blake2b(key.encode(), digest_size=16).hexdigest()


class RateLimiter:
    def __init__(
        self, rules: Mapping[str, tuple[RateLimitItem, ...]], redis: Redis | None = None, prefix: str = "authgate:"
    ) -> None:
        self.rules = dict(rules)
        self.local = MovingWindowRateLimiter(MemoryStorage())
        self.shared: MovingWindowRateLimiter | None = None
        if redis is not None:
            storage = RedisStorage(
                "async+redis://",
                implementation="redispy",
                wrap_exceptions=True,
                key_prefix=prefix + "rl",
                connection_pool=redis.connection_pool,  # type: ignore[arg-type]  # its options are typed too narrowly
            )
            self.shared = MovingWindowRateLimiter(storage)
        self.shared_down_until = 0.0

    def limits(self, rule: str) -> bool:
        """Is `rule` in force?"""
        return rule in self.rules

    async def hit(self, rule: str, key: str | None) -> None:
        """Count one request (or message) for `key` under `rule`; 429 `rate_limited` over it."""
        items = self.rules.get(rule)
        if not items or key is None:
            return
        name = hashed(key)
        for item in items:
            allowed, reset = await self._hit(item, rule, name)
            if not allowed:
                raise rate_limited(retry_after=reset - time.time(), limit=item.amount)

    async def over(self, rule: str, key: str | None) -> bool:
        """Has `key` used up `rule` already (without counting this as a hit)?"""
        items = self.rules.get(rule)
        if not items or key is None:
            return False
        name = hashed(key)
        for item in items:
            strategy = self._strategy()
            try:
                if not await strategy.test(item, rule, name):
                    return True
            except Exception as exc:
                self._shared_failed(exc)
                if not await self.local.test(item, rule, name):
                    return True
        return False

    async def _hit(self, item: RateLimitItem, rule: str, name: str) -> tuple[bool, float]:
        strategy = self._strategy()
        try:
            if await strategy.hit(item, rule, name):
                return True, 0.0
            return False, (await strategy.get_window_stats(item, rule, name)).reset_time
        except Exception as exc:
            if strategy is self.local:
                raise
            self._shared_failed(exc)
            return await self._hit(item, rule, name)

    def _strategy(self) -> MovingWindowRateLimiter:
        if self.shared is not None and time.monotonic() >= self.shared_down_until:
            return self.shared
        return self.local

    def _shared_failed(self, exc: Exception) -> None:
        if time.monotonic() >= self.shared_down_until:
            log.warning("rate_limits_local", reason=type(exc).__name__, retry_in_seconds=RETRY_SHARED_AFTER)
        self.shared_down_until = time.monotonic() + RETRY_SHARED_AFTER
