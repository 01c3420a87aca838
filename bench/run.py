"""Load benchmarks of a real `authgate serve` process, measured with wrk on loopback.

    python bench/run.py [--seconds 10] [--connections 32]

Starts a server on the embedded SQLite default with production settings (bcrypt cost 12),
creates a user, then measures GET /healthz (the hello-world route), GET /profile (token check
+ session check) and POST /login (one bcrypt-12 verification each), and prints a Markdown
table with the targets of bench/RESULTS.md. Needs `wrk` (Debian: apt-get install wrk).
Every loop here is bounded in time and count and aims only at 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from authgate.security.passwords import hash_password_sync
from authgate.settings import cpu_count

HERE = Path(__file__).parent
PASSWORD = "Bench-Mark-Pass-42"
REFRESH_TARGET = 600.0  # refreshes/s on 2 cores with SQLite (bench/RESULTS.md)


@dataclass
class Result:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(workdir: Path, port: int, extra_env: dict[str, str], workers: int = 1) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "JWT_SECRET": secrets.token_urlsafe(48),
        "AUTHGATE_DATABASE_URL": f"sqlite+aiosqlite:///{workdir}/authgate.db",
        "AUTHGATE_COOKIE_SECURE": "false",
        "AUTHGATE_LOG_LEVEL": "WARNING",
        # wrk signs in thousands of times from one address, far past login.ip and
        # login.identifier, and enumeration_timing.py asks for mail to one address hundreds of
        # times (send.recipient): rate limits off, so the paths measured are the ones users
        # take, not 429s. (The logins are right, so lockout never starts; no need to raise
        # AUTHGATE_LOCKOUT_THRESHOLD.)
        "AUTHGATE_RATE_LIMITS": "off",
        **extra_env,
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "authgate",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        cwd=workdir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(workdir / "server.log").open("wb"),
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("server did not start")


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        raise SystemExit(f"cannot read wrk latency {text!r}")
    value, unit = match.groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def wrk(
    name: str,
    url: str,
    seconds: int,
    connections: int,
    headers: dict[str, str] | None = None,
    script: Path | None = None,
    env: dict[str, str] | None = None,
    threads: int = 1,
) -> Result:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    for key, value in (headers or {}).items():
        command += ["-H", f"{key}: {value}"]
    if script:
        command += ["-s", str(script)]
    out = subprocess.run(
        [*command, url],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=seconds + 60,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = int(bad.group(1)) if bad else 0
    if socket_errors:
        errors += sum(int(g) for g in socket_errors.groups())
    return Result(name, rps, p50, p99, errors)


def bcrypt12_seconds() -> float:
    samples = []
    for _ in range(5):
        started = time.perf_counter()
        hash_password_sync(PASSWORD, 12)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=1, help="server worker processes")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")

    hash_time = bcrypt12_seconds()
    cores = cpu_count()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = start_server(workdir, port, {}, workers=args.workers)
        try:
            email = "bench@example.com"
            token = httpx.post(f"{base}/register", json={"email": email, "password": PASSWORD}, timeout=30).json()[
                "token"
            ]
            auth = {"Authorization": f"Bearer {token}"}
            chains = 16
            tokens = workdir / "refresh-tokens.txt"
            tokens.write_text(
                "".join(
                    httpx.post(f"{base}/login", json={"email": email, "password": PASSWORD}, timeout=30).json()[
                        "refreshToken"
                    ]
                    + "\n"
                    for _ in range(chains)
                )
            )
            results = [
                wrk("GET /healthz (hello world)", f"{base}/healthz", args.seconds, args.connections),
                wrk("GET /profile", f"{base}/profile", args.seconds, args.connections, headers=auth),
                wrk(
                    "POST /login (bcrypt 12)",
                    f"{base}/login",
                    args.seconds,
                    16,
                    script=HERE / "login.lua",
                    env={"BENCH_LOGIN_BODY": json.dumps({"email": email, "password": PASSWORD})},
                ),
                wrk(
                    "POST /refresh (rotation)",
                    f"{base}/refresh",
                    args.seconds,
                    chains,
                    threads=chains,
                    script=HERE / "refresh.lua",
                    env={"BENCH_TOKENS": str(tokens)},
                ),
                wrk("GET /healthz again (hello world)", f"{base}/healthz", args.seconds, args.connections),
            ]
        finally:
            server.terminate()
            server.wait(timeout=10)

    by_name = {r.name.split(" (")[0]: r for r in results}
    login_target = 0.85 * cores / hash_time
    profile_target = by_name["GET /healthz"].rps / 2
    print(f"cores={cores} workers={args.workers} bcrypt12={hash_time * 1000:.0f} ms python={sys.version.split()[0]}\n")
    print("| scenario | req/s | p50 ms | p99 ms | errors | target | met |")
    print("|---|---:|---:|---:|---:|---|---|")
    targets = {"GET /profile": profile_target, "POST /login": login_target, "POST /refresh": REFRESH_TARGET}
    for r in results:
        key = r.name.split(" (")[0]
        target = targets.get(key)
        met = "" if target is None else ("yes" if r.rps >= target and r.errors == 0 else "NO")
        target_text = "" if target is None else f">= {target:.1f}"
        print(f"| {r.name} | {r.rps:.1f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | {r.errors} | {target_text} | {met} |")


if __name__ == "__main__":
    main()
