"""Real processes and servers on loopback: `authgate serve` on a free port, one `authgate`
command, HTTP servers in threads for test receivers and stubs, and waiting on what they do."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from tests.support.app import TEST_SECRET

PATIENCE = 60.0
"""Seconds: how long any wait for something that will happen may take (a server to start, a
message to arrive, a row to appear). Only an upper bound for failure: a passing test waits
exactly as long as the thing takes, so a loaded machine slows the suite but never fails it."""


def serve_in_thread(handler: type[BaseHTTPRequestHandler], port: int) -> ThreadingHTTPServer:
    """A real HTTP server on 127.0.0.1:`port` in a daemon thread (test receivers and stubs);
    `shutdown()` and `server_close()` stop it."""
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    server.block_on_close = False
    threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
    return server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(workdir: Path, port: int | None, **env: str) -> dict[str, str]:
    """The environment of a server on `port` (or, with None, of an `authgate` command) in
    `workdir`: SQLite there unless AUTHGATE_DATABASE_URL is given."""
    return {
        **os.environ,
        "JWT_SECRET": TEST_SECRET,
        "AUTHGATE_DATABASE_URL": f"sqlite+aiosqlite:///{workdir}/authgate.db",
        "AUTHGATE_BCRYPT_ROUNDS": "4",
        "AUTHGATE_COOKIE_SECURE": "false",
        "AUTHGATE_RATE_LIMITS": "off",  # the suites that test limits turn them on
        **({"AUTHGATE_PUBLIC_URL": f"http://127.0.0.1:{port}"} if port is not None else {}),
        **env,
    }


def run_authgate(workdir: Path, *args: str, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    """One `authgate` command in `workdir`, in a server's environment (`server_env`)."""
    return subprocess.run(
        [sys.executable, "-m", "authgate", *args],
        env=server_env(workdir, None, **env),
        cwd=workdir,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def wait_healthy(process: subprocess.Popen[bytes], base: str, log_path: Path) -> None:
    """Until `GET {base}/healthz` answers 200; fail with the log if the process exits."""
    deadline = time.monotonic() + PATIENCE
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log_path.read_text()}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"server did not start in {PATIENCE:g} s")
        time.sleep(0.1)


class Server:
    """One `authgate serve` process; its output goes to `workdir/<name>.log`; `serve_args` are
    added to its command line (`("--workers", "2")`). It listens on 127.0.0.1; `public_host` names
    it in its public URL and `base` (`localhost`, as an OpenID issuer on this machine is named)."""

    def __init__(
        self,
        workdir: Path,
        name: str = "server",
        serve_args: Sequence[str] = (),
        public_host: str = "127.0.0.1",
        **env: str,
    ) -> None:
        self.log_path = workdir / f"{name}.log"
        for attempt in range(3):
            # A free port can be taken by another process on a busy machine before the server
            # binds it: then it is started again on another.
            self.port = free_port()
            self.base = f"http://{public_host}:{self.port}"
            logged = self.log_path.stat().st_size if self.log_path.exists() else 0
            self._log = self.log_path.open("ab")
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "authgate",
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    *serve_args,
                ],
                cwd=workdir,
                env=server_env(workdir, self.port, **{"AUTHGATE_PUBLIC_URL": self.base, **env}),
                stdout=self._log,
                stderr=subprocess.STDOUT,
            )
            try:
                wait_healthy(self.process, self.base, self.log_path)
                return
            except BaseException:
                self.kill()
                lost_port = "address already in use" in self.log_path.read_bytes()[logged:].decode(errors="replace")
                if not lost_port or attempt == 2:
                    raise

    def stop(self) -> None:
        """SIGTERM: a graceful stop."""
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()

    def kill(self) -> None:
        """SIGKILL: no lifespan shutdown, nothing flushed; a crash."""
        self.process.kill()
        self.process.wait()
        self._log.close()


@contextmanager
def running_server(workdir: Path, **env: str) -> Iterator[str]:
    """Yield the base URL of a fresh server on SQLite in `workdir`; extra env overrides."""
    server = Server(workdir, **env)
    try:
        yield server.base
    finally:
        server.stop()


def wait(predicate: Any, timeout: float = PATIENCE, what: str = "") -> None:
    """Poll `predicate()` until it is true; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting: {what}"
        time.sleep(0.05)


def cpu_seconds(pid: int) -> float:
    """The CPU time (user and system) process `pid` has used so far: what it has done, which,
    unlike a wall-clock wait, does not stretch when other processes load the machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def worker_pids(log_path: Path) -> set[int]:
    """The process ids of the workers a server's log says it started."""
    return {int(pid) for pid in re.findall(r"Started server process \[(\d+)\]", log_path.read_text())}
