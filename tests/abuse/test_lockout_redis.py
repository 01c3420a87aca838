"""The lockout across nodes (two app instances on one Redis and one database) and when Redis
goes away mid-run: sign-ins that Redis guards are refused (503, fail closed) until it is
back, and nothing answers 500."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ClientFactory, skip_or_fail
from tests.helpers import STRONG_PASSWORD, register

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


class PrivateRedis:
    """A redis-server of this test's own, on a free port, that the test can stop and start."""

    def __init__(self, workdir: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(command, cwd=self.workdir, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        skip_or_fail("redis-server is not installed (Debian package redis-server)")
    server = PrivateRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def test_lockout_fails_closed_while_redis_is_away(
    make_client: ClientFactory, private_redis: PrivateRedis
) -> None:
    async with make_client(redis_url=private_redis.url) as client:
        await register(client)
        for _ in range(3):
            assert (await client.post("/login", json=WRONG)).status_code == 401

        private_redis.stop()
        away = await client.post("/login", json=RIGHT)
        assert away.status_code == 503, away.text
        assert away.json()["code"] == "temporarily_unavailable"
        assert away.headers["retry-after"]

        private_redis.start()  # an empty Redis: the counts are gone with the old one
        back = await client.post("/login", json=RIGHT)
        assert back.status_code == 200, back.text
