"""`make bench`: authgate beside a peer, on both databases, with one and two workers, at 10k and
1M users, the OpenID provider's token endpoint, and the targets it is held to; the results
replace the generated part of bench/RESULTS.md.

    python bench/run.py [--seconds 5] [--quick] [--only authgate,postgres,workers,peer,provider,scale] [--no-write]

Every target is a ratio measured in this one run (the machines are shared and noisy). Needs
wrk (Debian: apt-get install wrk); PostgreSQL on 127.0.0.1:5432 for its parts (skipped, with
a line saying so, when it does not answer). The peer (fastapi-users) is installed from PyPI
into bench/.work/peer-venv the first time.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import passwords
import peer
import report
import seed
import token_endpoint
from harness import (
    HERE,
    PASSWORD,
    Load,
    Server,
    bcrypt12_seconds,
    log,
    memory,
    postgres_answers,
    postgres_database,
    refresh_chains,
    register,
    settle,
    start_authgate,
    warm_up,
    wrk,
    wrk_command,
    wrk_refresh,
    wrk_together,
)
from report import met

from authgate.security.hashing import HashPolicy
from authgate.settings import cpu_count

RESULTS = HERE / "RESULTS.md"
SECTIONS = ("authgate", "postgres", "workers", "peer", "provider", "argon2id", "import", "scale")
THROUGHPUT_CONNECTIONS = 32
LOGIN_CONNECTIONS = 16
LOGIN_SCALE = 3  # a login scenario runs this many times longer: at ~8 logins/s, 5 s count only ~40
LATENCY_CONNECTIONS = 4  # p99 of reads, idle and under login load; p50 at scale
REFRESH_CHAINS = 16
SCALE_SESSIONS_READ = 1000  # distinct sessions /profile cycles through at scale
MANY_SESSIONS = 1000  # distinct sessions /profile cycles through beside its one-session p99

INTRO = """
`make bench` (or `.venv/bin/python bench/run.py`) measures everything below in one run and
rewrites the part between the markers; the dated sections after it record what each change
to a measured path did. It starts real servers and drives them with wrk on loopback: authgate
(`authgate serve`, production settings: bcrypt cost 12, every request's session checked) and,
beside it, the same scenarios against an app built on fastapi-users (installed from PyPI,
SQLite, bcrypt cost 12). Rate limits are off in both: wrk signs in thousands of times from one
address. The machines these run on are shared and noisy, so every target is a ratio of two
figures measured minutes apart in the same run.

The targets: login efficiency = logins/s x one bcrypt-12 hash ÷ cores ≥ 0.9 (how much of the
machine goes to hashing); `GET /profile` ÷ hello world on the same server ≥ 0.75 (one and two
workers, SQLite and PostgreSQL); `/profile` p99 while logins saturate the CPU ≤ 15 ms and
≤ 4 x its idle p99; `/profile` p99 over 1,000 sessions ≤ 3 x its p99 over one (most of their
sessions are read from the database: each is cached for one second), SQLite and PostgreSQL;
refreshes/s ÷ hello world ≥ 0.15 on SQLite and on PostgreSQL; idle memory ≤ 100 MB per worker;
p50 with 1M users and 1M sessions ÷ p50 with 10k ≤ 1.2; login efficiency with argon2id at its
default cost ≥ 0.9 (against one check timed with every core checking, as the hashing pool runs
them, right before and right after the logins, their mean counting); `authgate user import` of 100,000
rows ≥ 5,000 rows/s on SQLite, its peak memory within 30 MiB of a 1,000-row import's
(bench/passwords.py); at the OpenID provider's token endpoint (RS256), client-credentials
grants/s ÷ hello world ≥ 0.075 and code exchanges/s ÷ hello world ≥ 0.015, SQLite and
PostgreSQL (bench/token_endpoint.py).
"""


@dataclass
class Run:
    """Everything one run measured, by section."""

    seconds: float
    quick: bool
    hash_seconds: float = 0.0  # at the start of the run
    hash_seconds_by: dict[str, float] = field(default_factory=dict)  # right after each login scenario
    cores: int = 1
    servers: dict[str, dict[str, Load]] = field(default_factory=dict)
    memory: dict[str, list[tuple[float, float]]] = field(default_factory=dict)  # name -> (rss, pss) per worker
    scale: dict[str, dict[str, object]] = field(default_factory=dict)
    passwords: passwords.PasswordResults = field(default_factory=passwords.PasswordResults)
    tokens: token_endpoint.TokenResults = field(default_factory=token_endpoint.TokenResults)
    skipped: list[str] = field(default_factory=list)


# --- the sections ---------------------------------------------------------------------------


def authgate_section(run: Run, workdir: Path, name: str, database_url: str, *, workers: int, full: bool) -> None:
    """hello, /profile, and (full) login, refresh, /profile p99 idle, over many sessions and
    under login load."""
    if full:
        password_hash = HashPolicy(bcrypt_rounds=12).make(seed.SEED_PASSWORD)
        seed.seed(database_url, users=MANY_SESSIONS, sessions=MANY_SESSIONS, password_hash=password_hash)
    server = start_authgate(workdir, database_url, workers=workers)
    try:
        email = f"bench-{name}@example.com"
        token = register(server.base, email)
        auth = {"Authorization": f"Bearer {token}"}
        warm_up(server)
        run.memory[name] = [(m.rss_mb, m.pss_mb) for m in map(memory, server.workers())]
        s = run.seconds
        loads = {
            "hello": wrk("GET /healthz", server, "/healthz", s, THROUGHPUT_CONNECTIONS, threads=workers),
            "profile": wrk(
                "GET /profile", server, "/profile", s, THROUGHPUT_CONNECTIONS, threads=workers, headers=auth
            ),
        }
        if full:
            login_env = {"BENCH_LOGIN_BODY": json.dumps({"email": email, "password": PASSWORD})}
            loads["login"] = wrk(
                "POST /login",
                server,
                "/login",
                LOGIN_SCALE * s,
                LOGIN_CONNECTIONS,
                script=HERE / "login.lua",
                env=login_env,
            )
            settle(server)
            run.hash_seconds_by[name] = bcrypt12_seconds()  # the same minute: the machine's speed drifts
            chains = refresh_chains(server.base, email, REFRESH_CHAINS, workdir / f"{name}-chains.txt")
            loads["refresh"] = wrk_refresh("POST /refresh", server, s, chains, REFRESH_CHAINS)
            many = access_tokens(server, 0, MANY_SESSIONS, workdir / f"{name}-access.txt")
            loads["profile_idle"] = wrk(
                "GET /profile (4 conn.)", server, "/profile", s, LATENCY_CONNECTIONS, headers=auth
            )
            loads["profile_many"] = wrk(
                f"GET /profile, {MANY_SESSIONS} sessions (4 conn.)",
                server,
                "/profile",
                s,
                LATENCY_CONNECTIONS,
                script=HERE / "profile_many.lua",
                env={"BENCH_TOKENS": str(many)},
            )
            loads["profile_busy"], loads["login_busy"] = wrk_together(
                server,
                [
                    (
                        "GET /profile during logins",
                        wrk_command(server.base + "/profile", s, LATENCY_CONNECTIONS, headers=auth),
                        {},
                    ),
                    (
                        "POST /login beside reads",
                        wrk_command(server.base + "/login", s, LOGIN_CONNECTIONS, script=HERE / "login.lua"),
                        login_env,
                    ),
                ],
                s,
            )
        loads["hello_again"] = wrk("GET /healthz again", server, "/healthz", s, THROUGHPUT_CONNECTIONS, threads=workers)
        loads["profile_again"] = wrk(
            "GET /profile again", server, "/profile", s, THROUGHPUT_CONNECTIONS, threads=workers, headers=auth
        )
        run.servers[name] = loads
    finally:
        server.stop()


def access_tokens(server: Server, first: int, count: int, path: Path) -> Path:
    """Access tokens of seeded sessions first .. first + count - 1 (each refreshed once), one
    per line, for bench/profile_many.lua."""
    with httpx.Client(base_url=server.base, timeout=30) as client:
        tokens = []
        for i in range(first, first + count):
            answer = client.post("/refresh", json={"refreshToken": seed.seed_refresh_token(i)})
            answer.raise_for_status()
            tokens.append(answer.json()["token"])
    path.write_text("".join(token + "\n" for token in tokens))
    return path


def peer_section(run: Run, workdir: Path) -> None:
    from harness import free_port

    server = peer.start_peer(workdir, free_port())
    try:
        email = "bench-peer@example.com"
        peer.create_user(server.base, email, PASSWORD)
        auth = {"Authorization": f"Bearer {peer.login(server.base, email, PASSWORD)}"}
        warm_up(server, peer.HELLO_PATH)
        run.memory["peer"] = [(m.rss_mb, m.pss_mb) for m in map(memory, server.workers())]
        s = run.seconds
        login_env = peer.login_wrk_env(email, PASSWORD)
        loads = {
            "hello": wrk("GET /hello", server, peer.HELLO_PATH, s, THROUGHPUT_CONNECTIONS),
            "profile": wrk("GET /users/me", server, peer.PROFILE_PATH, s, THROUGHPUT_CONNECTIONS, headers=auth),
            "login": wrk(
                "POST /auth/jwt/login",
                server,
                peer.LOGIN_PATH,
                LOGIN_SCALE * s,
                LOGIN_CONNECTIONS,
                script=peer.LOGIN_SCRIPT,
                env=login_env,
            ),
        }
        settle(server, peer.HELLO_PATH)
        run.hash_seconds_by["peer"] = bcrypt12_seconds()
        loads["profile_idle"] = wrk(
            "GET /users/me (4 conn.)", server, peer.PROFILE_PATH, s, LATENCY_CONNECTIONS, headers=auth
        )
        loads["profile_busy"], loads["login_busy"] = wrk_together(
            server,
            [
                (
                    "GET /users/me during logins",
                    wrk_command(server.base + peer.PROFILE_PATH, s, LATENCY_CONNECTIONS, headers=auth),
                    {},
                ),
                (
                    "POST /auth/jwt/login beside reads",
                    wrk_command(server.base + peer.LOGIN_PATH, s, LOGIN_CONNECTIONS, script=peer.LOGIN_SCRIPT),
                    login_env,
                ),
            ],
            s,
        )
        loads["hello_again"] = wrk("GET /hello again", server, peer.HELLO_PATH, s, THROUGHPUT_CONNECTIONS)
        loads["profile_again"] = wrk(
            "GET /users/me again", server, peer.PROFILE_PATH, s, THROUGHPUT_CONNECTIONS, headers=auth
        )
        run.servers["peer"] = loads
    finally:
        server.stop()


SCALE_ROUNDS = 2  # each size measured this many times, alternating; the lower p50 counts


@dataclass
class ScaleTarget:
    """One size's server, with the seeded sessions it reads and the chains it rotates."""

    label: str
    server: Server
    access_tokens: Path
    next_chain: int  # the first seeded session no refresh has used yet

    @classmethod
    def start(cls, workdir: Path, label: str, database_url: str, first: int) -> ScaleTarget:
        server = start_authgate(workdir, database_url)
        tokens = access_tokens(server, first, SCALE_SESSIONS_READ, workdir / f"{label}-access.txt")
        return cls(label, server, tokens, first + SCALE_SESSIONS_READ)

    def measure(self, run: Run, workdir: Path) -> dict[str, Load]:
        """p50 at low concurrency of login (a seeded user), /profile over many seeded sessions
        (most of them read from the database), and refresh along fresh seeded chains."""
        s, label, server = run.seconds, self.label, self.server
        login_env = {"BENCH_LOGIN_BODY": json.dumps({"email": seed.seed_email(4321), "password": seed.SEED_PASSWORD})}
        login = wrk(
            f"POST /login ({label})", server, "/login", s, LATENCY_CONNECTIONS, script=HERE / "login.lua", env=login_env
        )
        settle(server)
        profile = wrk(
            f"GET /profile, {SCALE_SESSIONS_READ} sessions ({label})",
            server,
            "/profile",
            s,
            LATENCY_CONNECTIONS,
            script=HERE / "profile_many.lua",
            env={"BENCH_TOKENS": str(self.access_tokens)},
        )
        chains = workdir / f"{label}-chains-{self.next_chain}.txt"
        first = self.next_chain
        chains.write_text("".join(seed.seed_refresh_token(first + i) + "\n" for i in range(LATENCY_CONNECTIONS)))
        self.next_chain += LATENCY_CONNECTIONS
        refresh = wrk_refresh(f"POST /refresh ({label})", server, s, chains, LATENCY_CONNECTIONS)
        return {"login": login, "profile": profile, "refresh": refresh}


def scale_section(run: Run, workdir: Path, backend: str, small_url: str, big_url: str, big: int) -> None:
    """10k and `big` users and sessions in two databases, each with its own server, measured
    in turns (10k, big, 10k, big) so that both sizes see the same moments of a noisy machine."""
    password_hash = HashPolicy(bcrypt_rounds=12).make(seed.SEED_PASSWORD)
    small = 10_000
    result: dict[str, object] = {"big": big}
    result["seed_small_s"] = seed.seed(small_url, users=small, sessions=small, password_hash=password_hash)
    result["seed_big_s"] = seed.seed(big_url, users=big, sessions=big, password_hash=password_hash)
    result["small_tables"] = seed.table_bytes(small_url)
    result["big_tables"] = seed.table_bytes(big_url)
    result["database_bytes"] = seed.database_bytes(big_url)
    size = f"{big // 1_000_000}M" if big >= 1_000_000 else f"{big // 1000}k"
    targets = [
        ScaleTarget.start(workdir, f"{backend} 10k", small_url, first=0),
        # Sessions far from the start of the big table.
        ScaleTarget.start(workdir, f"{backend} {size}", big_url, first=big // 2),
    ]
    try:
        best: list[dict[str, Load]] = [{}, {}]
        for _ in range(SCALE_ROUNDS):
            for index, target in enumerate(targets):
                for key, load in target.measure(run, workdir).items():
                    if key not in best[index] or load.p50_ms < best[index][key].p50_ms:
                        best[index][key] = load
        result["small"] = {"loads": best[0], "rss_mb": memory(targets[0].server.process.pid).rss_mb}
        result["big_point"] = {"loads": best[1], "rss_mb": memory(targets[1].server.process.pid).rss_mb}
    finally:
        for target in targets:
            target.server.stop()
    run.scale[backend] = result


# --- the report -----------------------------------------------------------------------------


def ratio(a: float, b: float) -> float:
    return a / b if b else 0.0


def hello_of(loads: dict[str, Load]) -> float:
    """The server's hello world: the better of its two runs (before and after the others)."""
    return max(loads["hello"].rps, loads["hello_again"].rps)


def profile_of(loads: dict[str, Load]) -> float:
    """`/profile` likewise: the better of its two runs, each right after a hello world."""
    return max(loads["profile"].rps, loads["profile_again"].rps)


def render(run: Run, environment: dict[str, str], wall_seconds: float) -> str:
    parts: list[str] = []
    parts.append(f"## Latest run: {environment['date']}\n")
    parts.append(
        "\n".join(f"- **{k}**: {v}" for k, v in environment.items() if k != "date")
        + f"\n- **bcrypt cost 12**: {run.hash_seconds * 1000:.0f} ms per hash in the benchmark process at the start "
        f"(measured again right after each login scenario, for its efficiency: "
        f"{', '.join(f'{k} {v * 1000:.0f} ms' for k, v in run.hash_seconds_by.items())}); "
        f"{run.cores} cores\n- **wall time of this run**: {wall_seconds / 60:.1f} min"
        + (" (`--quick`: shorter scenarios, smaller scale)" if run.quick else "")
    )
    targets: list[tuple[str, str, str, str]] = []

    def login_efficiency(name: str, loads: dict[str, Load]) -> float:
        return loads["login"].rps * run.hash_seconds_by.get(name, run.hash_seconds) / run.cores

    side_rows = []
    for name, title in (
        ("sqlite", "authgate, SQLite, 1 worker"),
        ("postgres", "authgate, PostgreSQL, 1 worker"),
        ("workers", "authgate, SQLite, 2 workers"),
        ("peer", "fastapi-users, SQLite, 1 worker"),
    ):
        loads = run.servers.get(name)
        if loads is None:
            continue
        hello = hello_of(loads)
        row: list[object] = [title, hello, profile_of(loads), ratio(profile_of(loads), hello)]
        if "login" in loads:
            row += [loads["login"].rps, login_efficiency(name, loads)]
        else:
            row += ["", ""]
        if "profile_busy" in loads:
            row += [loads["profile_idle"].p99_ms, loads["profile_busy"].p99_ms]
        else:
            row += ["", ""]
        row += [loads["profile_many"].p99_ms] if "profile_many" in loads else [""]
        if "refresh" in loads:
            row += [loads["refresh"].rps, ratio(loads["refresh"].rps, hello)]
        else:
            row += ["", ""]
        side_rows.append(row)
        if name == "peer":
            continue
        targets.append(
            (
                f"/profile ÷ hello ({title})",
                f"{ratio(profile_of(loads), hello):.2f}",
                "≥ 0.75",
                met(ratio(profile_of(loads), hello) >= 0.75),
            )
        )
        if "login" in loads:
            eff = login_efficiency(name, loads)
            targets.append((f"login efficiency ({title})", f"{eff:.2f}", "≥ 0.9", met(eff >= 0.9)))
        if "profile_busy" in loads:
            idle, busy = loads["profile_idle"].p99_ms, loads["profile_busy"].p99_ms
            targets.append((f"/profile p99 under login load ({title})", f"{busy:.1f} ms", "≤ 15 ms", met(busy <= 15)))
            targets.append(
                (f"/profile p99 under load ÷ idle ({title})", f"{ratio(busy, idle):.1f}", "≤ 4", met(busy <= 4 * idle))
            )
        if "profile_many" in loads:
            r = ratio(loads["profile_many"].p99_ms, loads["profile_idle"].p99_ms)
            targets.append(
                (f"/profile p99 over {MANY_SESSIONS:,} sessions ÷ over one ({title})", f"{r:.1f}", "≤ 3", met(r <= 3))
            )
        if "refresh" in loads:
            r = ratio(loads["refresh"].rps, hello)
            targets.append((f"refresh ÷ hello ({title})", f"{r:.3f}", "≥ 0.15", met(r >= 0.15)))
    parts.append("### Side by side\n")
    parts.append(
        report.table(
            [
                "server",
                "hello req/s",
                "/profile req/s",
                "/profile ÷ hello",
                "logins/s",
                "login efficiency",
                "/profile p99 idle ms",
                "/profile p99 under logins ms",
                f"/profile p99 over {MANY_SESSIONS:,} sessions ms",
                "refreshes/s",
                "refresh ÷ hello",
            ],
            side_rows,
        )
    )
    parts.append(
        "\nThe peer's `/profile` is `GET /users/me`; hello world and `/profile` are each the better of "
        "two runs on each server (one pair before, one after the other scenarios), so that a burst "
        "of other work on the machine does not decide a ratio. Logins run "
        f"{LOGIN_SCALE} x as long as the other scenarios (they are few a second). Login efficiency = "
        "logins/s x one hash ÷ cores. p99 columns: 4 connections reading, alone and while 16 connections sign in, "
        f"and alone cycling through {MANY_SESSIONS:,} seeded sessions' tokens (right after the one-session run)."
    )

    memory_rows = []
    for name, title in (
        ("sqlite", "authgate, 1 worker"),
        ("workers", "authgate, 2 workers"),
        ("peer", "fastapi-users, 1 worker"),
    ):
        for index, (rss, pss) in enumerate(run.memory.get(name, [])):
            memory_rows.append([f"{title}: worker {index + 1}", rss, pss])
            if name != "peer":
                targets.append(
                    (f"idle RSS per worker ({title}, worker {index + 1})", f"{rss:.0f} MB", "≤ 100 MB", met(rss <= 100))
                )
    if memory_rows:
        parts.append("### Memory when idle (after 100 requests)\n")
        parts.append(report.table(["process", "RSS MB", "PSS MB"], memory_rows))
        parts.append(
            "\nPSS counts a page shared by several processes once in all: with two workers forked from one "
            "parent, it is the memory each worker really adds."
        )

    if run.scale:
        scale_rows = []
        size_rows = []
        for backend, result in run.scale.items():
            small, big = result["small"], result["big_point"]
            assert isinstance(small, dict) and isinstance(big, dict)
            for key, what in (("login", "POST /login"), ("profile", "GET /profile"), ("refresh", "POST /refresh")):
                a, b = small["loads"][key], big["loads"][key]
                r = ratio(b.p50_ms, a.p50_ms)
                scale_rows.append([backend, what, a.p50_ms, b.p50_ms, r, met(r <= 1.2)])
                targets.append((f"p50 1M ÷ 10k, {what} ({backend})", f"{r:.2f}", "≤ 1.2", met(r <= 1.2)))
            big_n = int(result["big"])  # type: ignore[call-overload]
            tables_small, tables_big = result["small_tables"], result["big_tables"]
            assert isinstance(tables_small, dict) and isinstance(tables_big, dict)
            for table_name in ("users", "sessions"):
                if table_name in tables_big:
                    grown = tables_big[table_name] - tables_small.get(table_name, 0)
                    size_rows.append([backend, table_name, grown / (big_n - 10_000) * 100_000 / 2**20])
            size_rows.append([backend, "whole database at the large size", int(result["database_bytes"]) / 2**20])  # type: ignore[call-overload]
            size_rows.append(
                [backend, "server RSS MB after the large run (10k run)", f"{big['rss_mb']:.0f} ({small['rss_mb']:.0f})"]
            )
            size_rows.append(
                [
                    backend,
                    "seconds to seed 10k / the large size",
                    f"{result['seed_small_s']:.1f} / {result['seed_big_s']:.1f}",
                ]
            )
        parts.append(f"### Scale: 10k against {run.scale[next(iter(run.scale))]['big']:,} users and sessions\n")
        parts.append(
            report.table(["database", "request", "p50 ms at 10k", "p50 ms large", "ratio", "≤ 1.2"], scale_rows)
        )
        parts.append(
            "\n4 connections each, the lower p50 of two rounds taken in turns with the other size; `/profile` "
            "cycles through 1,000 seeded sessions so that most requests read their session from the database; "
            "the rows were written in bulk (bench/seed.py), the logins are a seeded user's, the refreshes "
            "rotate seeded sessions' tokens.\n"
        )
        parts.append(report.table(["database", "what", "MB per 100k rows / value"], size_rows))

    cost_rows = []
    for name, loads in run.servers.items():
        hello = loads["hello"]
        if hello.wrk_cpu_us:
            cost_rows.append(
                [name, "hello", hello.wrk_cpu_us, hello.server_cpu_us, ratio(hello.wrk_cpu_us, hello.server_cpu_us)]
            )
    if cost_rows:
        parts.append("### What the load generator costs\n")
        parts.append(
            report.table(
                ["server", "scenario", "wrk CPU µs/request", "server CPU µs/request", "wrk ÷ server"], cost_rows
            )
        )

    if run.tokens.loads:
        text, token_targets = token_endpoint.render(run.tokens)
        parts.append(text)
        targets += token_targets
    if run.passwords.argon2_login is not None or run.passwords.imports:
        text, password_targets = passwords.render(run.passwords, run.cores)
        parts.append(text)
        targets += password_targets
    parts.insert(2, "### Targets\n\n" + report.table(["target", "measured", "wanted", "met"], targets))
    if run.skipped:
        parts.append("### Skipped\n\n" + "\n".join(f"- {line}" for line in run.skipped))
    return "\n\n".join(parts) + "\n"


def environment() -> dict[str, str]:
    def command_output(*command: str) -> str:
        try:
            return subprocess.run(command, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return "?"

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    ram = next(
        line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")
    )
    peer_versions = ""
    freeze = (HERE / "peer-requirements.txt").read_text().splitlines()
    peer_versions = ", ".join(
        line
        for line in freeze
        if line.split("==")[0].lower() in {"fastapi-users", "fastapi", "pwdlib", "bcrypt", "uvicorn"}
    )
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{cpu}, {cpu_count()} cores, {int(ram) / 2**20:.0f} GB RAM, {platform.system()}",
        "authgate": command_output("git", "-C", str(HERE.parent), "rev-parse", "--short", "HEAD"),
        "python": platform.python_version(),
        "SQLite": sqlite3.sqlite_version,
        "PostgreSQL": command_output("psql", "--version"),
        "wrk": command_output("wrk", "--version").splitlines()[0] if shutil.which("wrk") else "missing",
        "peer": peer_versions,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--quick", action="store_true", help="2 s scenarios, 100k instead of 1M at scale")
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated: " + ", ".join(SECTIONS))
    parser.add_argument("--no-write", action="store_true", help="print the results instead of writing RESULTS.md")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    only = set(args.only.split(","))
    run = Run(seconds=2 if args.quick else args.seconds, quick=args.quick)
    started = time.monotonic()
    run.hash_seconds = bcrypt12_seconds()
    run.cores = cpu_count()
    postgres = postgres_answers()
    if not postgres and (only & {"postgres", "provider", "scale"}):
        run.skipped.append("PostgreSQL did not answer on 127.0.0.1:5432: its parts were not run.")
    big = 100_000 if args.quick else 1_000_000
    with tempfile.TemporaryDirectory(prefix="authgate-bench-") as tmp:
        workdir = Path(tmp)

        def sqlite(name: str) -> str:
            return f"sqlite+aiosqlite:///{workdir}/{name}.db"

        steps: list[tuple[str, Callable[[], None]]] = [
            (
                "authgate",
                lambda: authgate_section(run, workdir, "sqlite", sqlite("a"), workers=1, full=True),
            ),
            (
                "postgres",
                lambda: _with_postgres(
                    postgres, "pg", lambda url: authgate_section(run, workdir, "postgres", url, workers=1, full=True)
                ),
            ),
            (
                "workers",
                lambda: authgate_section(run, workdir, "workers", sqlite("w"), workers=2, full=False),
            ),
            ("peer", lambda: peer_section(run, workdir)),
            (
                "provider",
                lambda: token_endpoint.provider_section(run.tokens, workdir, "sqlite", sqlite("p"), run.seconds),
            ),
            (
                "provider",
                lambda: _with_postgres(
                    postgres,
                    "provider",
                    lambda url: token_endpoint.provider_section(run.tokens, workdir, "postgres", url, run.seconds),
                ),
            ),
            (
                "argon2id",
                lambda: passwords.argon2_section(run.passwords, workdir, LOGIN_SCALE * run.seconds, run.cores),
            ),
            (
                "import",
                lambda: passwords.import_section(run.passwords, workdir, "SQLite", (sqlite("i1"), sqlite("i2"))),
            ),
            (
                "import",
                lambda: _with_two_postgres(
                    postgres,
                    lambda small, large: passwords.import_section(run.passwords, workdir, "PostgreSQL", (small, large)),
                ),
            ),
            (
                "scale",
                lambda: scale_section(run, workdir, "SQLite", sqlite("small"), sqlite("big"), big),
            ),
            (
                "scale",
                lambda: _with_two_postgres(
                    postgres, lambda small, large: scale_section(run, workdir, "PostgreSQL", small, large, big)
                ),
            ),
        ]
        for section, step in steps:
            if section in only:
                log(f"--- {section} ({(time.monotonic() - started) / 60:.1f} min)")
                step()
    wall = time.monotonic() - started
    generated = render(run, environment(), wall)
    if args.no_write:
        print(generated)
    else:
        report.replace_generated(RESULTS, generated, INTRO)
        log(f"wrote {RESULTS}")
    log(f"done in {wall / 60:.1f} min")


def _with_postgres(available: bool, label: str, body: Callable[[str], None]) -> None:
    if not available:
        return
    with postgres_database(label) as url:
        body(url)


def _with_two_postgres(available: bool, body: Callable[[str, str], None]) -> None:
    if not available:
        return
    with postgres_database("small") as small_url, postgres_database("big") as big_url:
        body(small_url, big_url)


if __name__ == "__main__":
    main()
