"""Fixtures for the abuse-protection tests: Redis, and apps with the limits switched on.

Each test gets its own Redis key prefix, so runs sharing one Redis never see each other's
counts. Without Redis at AUTHGATE_TEST_REDIS_URL the Redis cases skip (fail with CI=true)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis
import redis.asyncio as aioredis

from tests.conftest import skip_or_fail
from tests.e2e.server import free_port
from tests.messaging.conftest import mailbox, messaging_client, sms  # the real SMTP sink and SMS receiver

__all__ = ["counts_in", "mailbox", "messaging_client", "private_redis", "redis_prefix", "redis_url", "sms"]

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


@pytest.fixture(params=["memory", "redis"])
def counts_in(request: pytest.FixtureRequest) -> tuple[str, str] | None:
    """Where the counts under test live: None for this process, or Redis's URL and this
    test's key prefix (the contract suites run against both)."""
    if request.param == "memory":
        return None
    return request.getfixturevalue("redis_url"), request.getfixturevalue("redis_prefix")


class PrivateRedis:
    """A redis-server of this test's own, on a free port, keeping nothing on disk: it can be
    killed and started again empty on the same port (the shared one on 6379 is never touched)."""

    def __init__(self, binary: str, workdir: Path) -> None:
        self.binary = binary
        self.workdir = workdir
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=self.workdir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        probe = redis.Redis(port=self.port, socket_timeout=1, socket_connect_timeout=1)
        deadline = time.monotonic() + 10
        try:
            while True:
                try:
                    probe.ping()
                    return
                except redis.ConnectionError:
                    if time.monotonic() > deadline or self.process.poll() is not None:
                        raise RuntimeError("redis-server did not start") from None
                    time.sleep(0.05)
        finally:
            probe.close()

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    binary = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )
    if binary is None:
        skip_or_fail("redis-server is not installed: the Redis-outage cases need one of their own to stop")
    server = PrivateRedis(binary, tmp_path)
    server.start()
    yield server
    server.kill()
