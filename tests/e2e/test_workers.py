"""`authgate serve --workers N`: every worker listens on the port itself, so a burst of
keep-alive connections is spread across the workers instead of landing on whichever woke
first; a second server cannot join the port by accident; a worker that dies is replaced."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.support.server import Server, server_env, wait, worker_pids

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads connections from /proc (Linux only)"),
]
BURST = 64


def established_by_worker(port: int, pids: set[int]) -> Counter[int]:
    """How many established connections to `port` each worker process holds (from /proc)."""
    owner: dict[str, int] = {}
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                owner[target[len("socket:[") : -1]] = pid
    counts: Counter[int] = Counter()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local_port, state, inode = int(fields[1].rsplit(":", 1)[1], 16), fields[3], fields[9]
            if local_port == port and state == "01" and inode in owner:  # 01: ESTABLISHED
                counts[owner[inode]] += 1
    return counts


def open_burst(port: int, count: int) -> list[socket.socket]:
    """`count` keep-alive connections opened at once, each having had one answer."""
    connections = [socket.create_connection(("127.0.0.1", port)) for _ in range(count)]
    for connection in connections:
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    for connection in connections:
        connection.settimeout(10)
        assert connection.recv(65536).startswith(b"HTTP/1.1 200")
    return connections


def test_a_burst_of_keepalive_connections_is_spread_across_the_workers(tmp_path: Path) -> None:
    server = Server(tmp_path, "workers", serve_args=("--workers", "2"))
    try:
        wait(lambda: len(worker_pids(server.log_path)) == 2, what="both workers started")
        pids = worker_pids(server.log_path)
        connections = open_burst(server.port, BURST)
        try:
            counts = established_by_worker(server.port, pids)
        finally:
            for connection in connections:
                connection.close()
        assert sum(counts.values()) == BURST
        # Spread by the kernel's hash: fewer than a quarter on one worker is about 4 standard
        # deviations away. One shared socket gave 25/7, 8/24 and 32/0 for bursts of 32.
        assert all(counts[pid] >= BURST // 4 for pid in pids), counts
    finally:
        server.stop()


def test_a_second_server_cannot_share_the_port(tmp_path: Path) -> None:
    server = Server(tmp_path, "first", serve_args=("--workers", "2"))
    try:
        command = ["serve", "--host", "127.0.0.1", "--port", str(server.port), "--workers", "2"]
        second = subprocess.run(
            [sys.executable, "-m", "authgate", *command],
            cwd=tmp_path,
            env=server_env(tmp_path, server.port),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 1
        assert f"cannot listen on 127.0.0.1:{server.port}: Address already in use" in second.stderr
        assert httpx.get(f"{server.base}/healthz").status_code == 200
    finally:
        server.stop()


def test_a_worker_that_dies_is_replaced_and_the_server_stops_cleanly(tmp_path: Path) -> None:
    server = Server(tmp_path, "workers", serve_args=("--workers", "2"))
    try:
        wait(lambda: len(worker_pids(server.log_path)) == 2, what="both workers started")
        victim = min(worker_pids(server.log_path))
        os.kill(victim, signal.SIGKILL)
        wait(lambda: len(worker_pids(server.log_path)) == 3, what="a new worker started")
        assert f"worker {victim} exited with code -9" in server.log_path.read_text()
        for _ in range(20):  # a new connection each: either worker may take it
            assert httpx.get(f"{server.base}/healthz").status_code == 200
        live = worker_pids(server.log_path) - {victim}
    finally:
        server.stop()
    assert server.process.returncode == 0
    for pid in live:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_one_worker_keeps_the_plain_server(tmp_path: Path) -> None:
    """Without --workers the server is one process with no supervisor in front of it."""
    server = Server(tmp_path, "single")
    try:
        assert worker_pids(server.log_path) == {server.process.pid}
    finally:
        server.stop()
