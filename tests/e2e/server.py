"""Start a real `authgate serve` process on a free loopback port, for end-to-end tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.conftest import TEST_SECRET


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(workdir: Path, **env: str) -> Iterator[str]:
    """Yield the base URL of a fresh server on SQLite in `workdir`; extra env overrides."""
    port = free_port()
    environment = {
        **os.environ,
        "JWT_SECRET": TEST_SECRET,
        "AUTHGATE_DATABASE_URL": f"sqlite+aiosqlite:///{workdir}/authgate.db",
        "AUTHGATE_BCRYPT_ROUNDS": "4",
        "AUTHGATE_COOKIE_SECURE": "false",
        "AUTHGATE_RATE_LIMITS": "off",  # the suites that test limits turn them on
        "AUTHGATE_PUBLIC_URL": f"http://127.0.0.1:{port}",
        **env,
    }
    log = (workdir / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "authgate", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=workdir,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited: {(workdir / 'server.log').read_text()}")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start in 30 s")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
