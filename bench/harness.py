"""What every benchmark needs: servers as real processes, wrk on loopback, and the CPU and
memory those processes use. Every loop is bounded in time and count and aims only at 127.0.0.1."""

from __future__ import annotations

import hashlib
import os
import re
import resource
import secrets
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from authgate.security.hashing import HashPolicy

HERE = Path(__file__).parent
PASSWORD = "Bench-Mark-Pass-42"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


@dataclass
class Server:
    """A server process and its address."""

    process: subprocess.Popen[bytes]
    base: str
    name: str

    @classmethod
    def start(
        cls, command: Sequence[str], *, env: dict[str, str], cwd: Path, port: int, ready_path: str, name: str
    ) -> Server:
        with (cwd / f"{name}.log").open("ab") as log_file:
            process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=log_file)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SystemExit(f"{name} exited at start; see {cwd / (name + '.log')}")
            try:
                if httpx.get(base + ready_path, timeout=1).status_code == 200:
                    return cls(process, base, name)
            except httpx.TransportError:
                time.sleep(0.1)
        process.kill()
        raise SystemExit(f"{name} did not start")

    def pids(self) -> list[int]:
        """The server process and its children (the workers)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        found = [int(pid) for pid in children.read_text().split()] if children.exists() else []
        return [self.process.pid, *found]

    def workers(self) -> list[int]:
        """The processes that serve: the children when there are any, else the process."""
        pids = self.pids()
        return pids[1:] or pids

    def cpu_seconds(self) -> float:
        total = 0.0
        for pid in self.pids():
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


SERVER_VENV = HERE / ".work" / "server-venv"


def server_python() -> Path:
    """A venv with authgate as users install it: its dependencies, none of the test tools
    (selenium, for one, brings trio, which httpx then imports: memory a server would not have).
    authgate itself is installed editable, so the code measured is this checkout's."""
    python = SERVER_VENV / "bin" / "python"
    marker = SERVER_VENV / ".pyproject-sha256"
    wanted = hashlib.sha256((HERE.parent / "pyproject.toml").read_bytes()).hexdigest()
    if python.exists() and marker.exists() and marker.read_text() == wanted:
        return python
    log("installing authgate without its test tools into bench/.work/server-venv")
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(SERVER_VENV)], check=True)
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "-e", str(HERE.parent)], capture_output=True, text=True
    )
    if installed.returncode != 0:
        raise SystemExit(f"pip install of authgate failed:\n{installed.stderr[-2000:]}")
    marker.write_text(wanted)
    return python


def start_authgate(
    workdir: Path, database_url: str, *, workers: int = 1, port: int | None = None, **env: str
) -> Server:
    """`authgate serve` with production settings (bcrypt cost 12, sessions checked on every
    request). Rate limits are off: wrk signs in thousands of times from one address, and the
    paths measured must be the ones users take, not 429s (the logins are right, so lockout
    never starts). `port`: for settings that name the server's own address."""
    port = port or free_port()
    environment = {
        **os.environ,
        "JWT_SECRET": secrets.token_urlsafe(48),
        "AUTHGATE_DATABASE_URL": database_url,
        "AUTHGATE_COOKIE_SECURE": "false",
        "AUTHGATE_LOG_LEVEL": "WARNING",
        "AUTHGATE_RATE_LIMITS": "off",
        **env,
    }
    command = [str(server_python()), "-m", "authgate", "serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", str(workers)]
    return Server.start(command, env=environment, cwd=workdir, port=port, ready_path="/healthz", name="authgate")


@dataclass
class Load:
    """One wrk run."""

    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    wrk_cpu_us: float  # wrk's CPU per request
    server_cpu_us: float  # the server's CPU per request (every process of it)


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        raise SystemExit(f"cannot read wrk latency {text!r}")
    value, unit = match.groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def wrk_command(
    url: str,
    seconds: float,
    connections: int,
    *,
    threads: int = 1,
    headers: dict[str, str] | None = None,
    script: Path | None = None,
) -> list[str]:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{round(seconds)}s", "--latency", "--timeout", "10s"]
    for key, value in (headers or {}).items():
        command += ["-H", f"{key}: {value}"]
    if script is not None:
        command += ["-s", str(script)]
    return [*command, url]


def parse_wrk(name: str, out: str, seconds: float, wrk_cpu: float, server_cpu: float) -> Load:
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if found is None:
        raise SystemExit(f"wrk printed no rate for {name}:\n{out}")
    rps = float(found.group(1))
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(bad.group(1)) if bad else 0) + (sum(map(int, socket_errors.groups())) if socket_errors else 0)
    requests = max(1.0, rps * seconds)
    return Load(name, rps, p50, p99, errors, wrk_cpu / requests * 1e6, server_cpu / requests * 1e6)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wrk(
    name: str,
    server: Server,
    path: str,
    seconds: float,
    connections: int,
    *,
    threads: int = 1,
    headers: dict[str, str] | None = None,
    script: Path | None = None,
    env: dict[str, str] | None = None,
) -> Load:
    """Drive `server` with wrk; the rate, latency, errors and what each side's CPU cost."""
    command = wrk_command(server.base + path, seconds, connections, threads=threads, headers=headers, script=script)
    wrk_before, server_before = _children_cpu(), server.cpu_seconds()
    out = subprocess.run(
        command, capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=seconds + 60, check=True
    ).stdout
    load = parse_wrk(name, out, seconds, _children_cpu() - wrk_before, server.cpu_seconds() - server_before)
    log(f"{server.name} {name}: {load.rps:.1f}/s p50 {load.p50_ms:.2f} ms p99 {load.p99_ms:.2f} ms")
    return load


def wrk_refresh(name: str, server: Server, seconds: float, chains: Path, count: int) -> Load:
    """POST /refresh along `count` rotation chains (the tokens in `chains`, one per line), one
    chain per wrk thread and connection (bench/refresh.lua)."""
    script, env = HERE / "refresh.lua", {"BENCH_TOKENS": str(chains)}
    return wrk(name, server, "/refresh", seconds, count, threads=count, script=script, env=env)


def wrk_together(server: Server, runs: Sequence[tuple[str, list[str], dict[str, str]]], seconds: float) -> list[Load]:
    """Several wrk runs (name, command, env) at once against one server, e.g. reads while
    logins load the CPU. Their CPU is not split between them, so it is not reported."""
    started = [
        (name, subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env={**os.environ, **env}))
        for name, command, env in runs
    ]
    loads = []
    for name, process in started:
        out, _ = process.communicate(timeout=seconds + 60)
        loads.append(parse_wrk(name, out, seconds, 0.0, 0.0))
        log(f"{server.name} {name}: {loads[-1].rps:.1f}/s p50 {loads[-1].p50_ms:.2f} ms p99 {loads[-1].p99_ms:.2f} ms")
    return loads


@dataclass
class Memory:
    rss_mb: float
    pss_mb: float


def memory(pid: int) -> Memory:
    """Resident and proportional set size (shared pages split among the processes sharing them)."""
    values = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("Rss", "Pss"):
            values[key] = int(rest.split()[0]) / 1024
    return Memory(values["Rss"], values["Pss"])


def warm_up(server: Server, path: str = "/healthz", count: int = 100) -> None:
    with httpx.Client(base_url=server.base, timeout=10) as client:
        for _ in range(count):
            client.get(path)


def settle(server: Server, path: str = "/healthz", *, limit_seconds: float = 60) -> None:
    """Wait until the server answers promptly again: logins still queued when wrk stopped are
    worked off after it (and a server that hashes on its event loop answers nothing meanwhile)."""
    deadline = time.monotonic() + limit_seconds
    prompt = 0
    with httpx.Client(base_url=server.base, timeout=30) as client:
        while prompt < 3 and time.monotonic() < deadline:
            started = time.perf_counter()
            client.get(path)
            prompt = prompt + 1 if time.perf_counter() - started < 0.02 else 0
            time.sleep(0.1)


def bcrypt12_seconds() -> float:
    samples = []
    for _ in range(5):
        started = time.perf_counter()
        HashPolicy(bcrypt_rounds=12).make(PASSWORD)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def postgres_answers() -> bool:
    return subprocess.run(["psql", PG_ADMIN, "-Atc", "select 1"], capture_output=True, timeout=10).returncode == 0


@contextmanager
def postgres_database(label: str) -> Iterator[str]:
    """A fresh PostgreSQL database for one part of the run, dropped after."""
    name = f"bench_{label}_{secrets.token_hex(4)}"
    subprocess.run(["psql", PG_ADMIN, "-qc", f"CREATE DATABASE {name}"], check=True, capture_output=True)
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    finally:
        subprocess.run(["psql", PG_ADMIN, "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], capture_output=True)


def register(base: str, email: str) -> str:
    answer = httpx.post(f"{base}/register", json={"email": email, "password": PASSWORD}, timeout=30)
    answer.raise_for_status()
    token: str = answer.json()["token"]
    return token


def refresh_chains(base: str, email: str, count: int, path: Path) -> Path:
    """`count` fresh sessions' refresh tokens, one per line (a chain is used up by one run)."""
    with httpx.Client(base_url=base, timeout=30) as client:
        tokens = [
            client.post("/login", json={"email": email, "password": PASSWORD}).json()["refreshToken"]
            for _ in range(count)
        ]
    path.write_text("".join(token + "\n" for token in tokens))
    return path
