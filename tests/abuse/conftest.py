"""Fixtures for the abuse-protection tests: Redis, and apps with the limits switched on.

Each test gets its own Redis key prefix, so runs sharing one Redis never see each other's
counts. Without Redis at AUTHGATE_TEST_REDIS_URL the Redis cases skip (fail with CI=true)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from tests.conftest import skip_or_fail
from tests.messaging.conftest import mailbox, messaging_client, sms  # the real SMTP sink and SMS receiver

__all__ = ["mailbox", "messaging_client", "redis_prefix", "redis_url", "sms"]

REDIS_URL = os.environ.get("AUTHGATE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
async def redis_url() -> str:
    probe = aioredis.Redis.from_url(REDIS_URL, socket_timeout=2)
    try:
        await probe.ping()
    except Exception as exc:
        skip_or_fail(f"Redis not reachable at {REDIS_URL}: {type(exc).__name__}")
    finally:
        await probe.aclose()
    return REDIS_URL


@pytest.fixture
async def redis_prefix(redis_url: str) -> AsyncIterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    prefix = f"authgate-test:{uuid.uuid4().hex[:12]}:"
    yield prefix
    client = aioredis.Redis.from_url(redis_url)
    try:
        keys = [key async for key in client.scan_iter(match=prefix + "*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()
