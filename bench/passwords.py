"""Two password benchmarks: logins with argon2id at its default cost, against one argon2id
check measured in the same run (login efficiency), and `authgate user import` of 100,000 rows
from a JSON Lines file (rows per second, and peak memory against a 1,000-row import: flat in
the file's size). Part of `make bench` (bench/run.py, sections `argon2id` and `import`)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import statistics
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from harness import (
    PASSWORD,
    Load,
    log,
    register,
    server_python,
    settle,
    start_authgate,
    warm_up,
    wrk,
)
from report import met

from authgate.security.hashing import HashPolicy, verify

IMPORT_ROWS = 100_000
SMALL_IMPORT_ROWS = 1_000
IMPORT_TARGET_ROWS_PER_S = 5_000
IMPORT_RSS_SLACK_MIB = 30


@dataclass
class ImportRun:
    rows: int
    seconds: float  # the command's wall time, start-up and migrations check included
    peak_rss_mib: float
    created: int

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds


@dataclass
class PasswordResults:
    argon2_login: Load | None = None
    argon2_seconds: float = 0.0  # one argon2id check at the default cost: the mean of the two below
    argon2_before: float = 0.0  # timed right before the logins
    argon2_after: float = 0.0  # and right after
    argon2_alone: float = 0.0  # one check with no other running, right after: for comparison
    imports: dict[str, list[ImportRun]] = field(default_factory=dict)  # database -> [small, large]


def argon2id_seconds(cores: int) -> float:
    """The median time of one check of an argon2id hash at the default cost while `cores`
    checks run at once, in this process: what each login costs the hashing pool, which keeps
    every core hashing. argon2 is memory-hard, so checks side by side share the memory bus
    (about 3 % slower each here than one alone); bcrypt's do not."""
    stored = HashPolicy("argon2id").make(PASSWORD)
    samples: list[float] = []

    def check(times: int) -> None:
        for _ in range(times):
            started = time.perf_counter()
            verify(stored.scheme, PASSWORD, stored.value)
            samples.append(time.perf_counter() - started)

    threads = [threading.Thread(target=check, args=(5,)) for _ in range(cores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statistics.median(samples)


def argon2_section(results: PasswordResults, workdir: Path, seconds: float, cores: int) -> None:
    """Logins for `seconds` with 16 connections on a server configured for argon2id (default
    cost: 64 MiB, 3 passes, 1 lane), SQLite."""
    server = start_authgate(workdir, f"sqlite+aiosqlite:///{workdir}/argon2.db", AUTHGATE_PASSWORD_HASH="argon2id")
    try:
        email = "bench-argon2@example.com"
        register(server.base, email)
        warm_up(server)
        before = argon2id_seconds(cores)
        body = {"BENCH_LOGIN_BODY": json.dumps({"email": email, "password": PASSWORD})}
        results.argon2_login = wrk(
            "POST /login (argon2id)",
            server,
            "/login",
            seconds,
            16,
            script=Path(__file__).parent / "login.lua",
            env=body,
        )
        settle(server)
        # The machine's speed drifts over minutes: the checks are timed right before and right
        # after the logins, and their mean stands for the speed during them.
        results.argon2_before = before
        results.argon2_after = argon2id_seconds(cores)
        results.argon2_seconds = (before + results.argon2_after) / 2
        results.argon2_alone = argon2id_seconds(1)
    finally:
        server.stop()


def write_rows(path: Path, count: int) -> Path:
    """`count` import rows with PBKDF2-SHA256 hashes (a cheap cost: the import never runs a
    hash, so the one hash is shared), a tenth of them unverified."""
    salt = os.urandom(16)
    key = hashlib.pbkdf2_hmac("sha256", PASSWORD.encode(), salt, 1000)
    hashed = f"$pbkdf2-sha256$i=1000,l=32${base64.b64encode(salt).decode()}${base64.b64encode(key).decode()}"
    with path.open("w") as out:
        for i in range(count):
            row = {
                "email": f"user{i}@import.example.com",
                "emailVerified": i % 10 != 0,
                "name": f"User {i}",
                "createdAt": "2024-04-01T12:00:00Z",
                "password": {"format": "pbkdf2", "hash": hashed},
            }
            out.write(json.dumps(row) + "\n")
    return path


def high_water_mib(pid: int) -> float | None:
    """The process's peak RSS so far (VmHWM), None once it has gone. Read from /proc, not from
    wait4: a child's `ru_maxrss` counts the parent's memory at the fork, 170 MB here."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    kib = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")), None)
    return kib / 1024 if kib is not None else None


def run_import(workdir: Path, database_url: str, rows: Path, count: int) -> ImportRun:
    """`authgate user import` into a migrated, empty database: its wall time and its peak RSS
    (the kernel's high-water mark of that one process, read until it exits)."""
    env = {**os.environ, "JWT_SECRET": "b" * 48, "AUTHGATE_DATABASE_URL": database_url}
    command = [str(server_python()), "-m", "authgate"]
    subprocess.run([*command, "migrate"], env=env, cwd=workdir, check=True, capture_output=True)
    started = time.perf_counter()
    process = subprocess.Popen(
        [*command, "user", "import", str(rows), "--json"],
        env=env,
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdout is not None
    peak = 0.0
    while process.poll() is None:
        peak = max(peak, high_water_mib(process.pid) or 0.0)  # monotonic: the last read is the peak
        time.sleep(0.02)
    seconds = time.perf_counter() - started
    output = process.stdout.read()
    assert process.returncode == 0, output
    summary = json.loads(output.splitlines()[-1])
    return ImportRun(rows=count, seconds=seconds, peak_rss_mib=peak, created=summary["created"])


def import_section(results: PasswordResults, workdir: Path, label: str, urls: tuple[str, str]) -> None:
    """A 1,000-row import, then a 100,000-row one, each into a database of its own."""
    small = write_rows(workdir / "import-1k.jsonl", SMALL_IMPORT_ROWS)
    large = write_rows(workdir / "import-100k.jsonl", IMPORT_ROWS)
    runs = [run_import(workdir, urls[0], small, SMALL_IMPORT_ROWS), run_import(workdir, urls[1], large, IMPORT_ROWS)]
    for run in runs:
        assert run.created == run.rows, run
        log(f"import {label} {run.rows}: {run.rows_per_s:.0f} rows/s, peak RSS {run.peak_rss_mib:.0f} MiB")
    results.imports[label] = runs


def render(results: PasswordResults, cores: int) -> tuple[str, list[tuple[str, str, str, str]]]:
    """The section's text and its targets (target, measured, wanted, met)."""
    targets: list[tuple[str, str, str, str]] = []
    lines: list[str] = []
    if results.argon2_login is not None:
        login = results.argon2_login
        efficiency = login.rps * results.argon2_seconds / cores
        targets.append(
            (
                "login efficiency, argon2id default cost (SQLite)",
                f"{efficiency:.2f}",
                "≥ 0.9",
                met(efficiency >= 0.9),
            )
        )
        lines.append(
            f"argon2id (64 MiB, 3 passes, 1 lane): one check {results.argon2_seconds * 1000:.0f} ms in the "
            f"benchmark process (the mean of {results.argon2_before * 1000:.0f} ms right before the logins and "
            f"{results.argon2_after * 1000:.0f} ms right after), {cores} checks at a time as the server's hashing "
            f"pool runs them; {login.rps:.1f} logins/s with 16 connections "
            f"(p50 {login.p50_ms:.0f} ms, p99 {login.p99_ms:.0f} ms); efficiency = logins/s x one check ÷ "
            f"{cores} cores = {efficiency:.2f}. A check alone took {results.argon2_alone * 1000:.0f} ms: against "
            f"that, {login.rps * results.argon2_alone / cores:.2f}; checks side by side share the memory bus, so "
            "no server reaches 1 against it. Figures a little above 1 are the noise of timings a minute apart."
        )
    rows = []
    for label, (small, large) in results.imports.items():
        growth = large.peak_rss_mib - small.peak_rss_mib
        rows.append(
            f"| {label} | {small.rows_per_s:,.0f} | {large.rows_per_s:,.0f} | {small.peak_rss_mib:.0f} | "
            f"{large.peak_rss_mib:.0f} | {growth:+.0f} |"
        )
        if label == "SQLite":
            targets.append(
                (
                    f"import {IMPORT_ROWS:,} rows, rows/s (SQLite)",
                    f"{large.rows_per_s:,.0f}",
                    f"≥ {IMPORT_TARGET_ROWS_PER_S:,}",
                    met(large.rows_per_s >= IMPORT_TARGET_ROWS_PER_S),
                )
            )
        targets.append(
            (
                f"import peak RSS, {IMPORT_ROWS:,} rows - {SMALL_IMPORT_ROWS:,} ({label})",
                f"{growth:+.0f} MiB",
                f"≤ {IMPORT_RSS_SLACK_MIB} MiB",
                met(growth <= IMPORT_RSS_SLACK_MIB),
            )
        )
    if rows:
        lines.append(
            "\n| database | rows/s, 1,000 rows | rows/s, 100,000 rows | peak RSS MiB, 1,000 | peak RSS MiB, 100,000 "
            "| growth MiB |\n|---|---|---|---|---|---|\n" + "\n".join(rows)
        )
        lines.append(
            "\n`authgate user import FILE --json` into an empty, migrated database; rows/s = rows ÷ the command's "
            "wall time (start-up included); peak RSS from the kernel (the process's VmHWM). Each row has a "
            "PBKDF2-SHA256 hash (the import checks its format and bounds and runs no hash), a name and a creation time."
        )
    return "### Passwords: argon2id logins, importing users\n\n" + "\n".join(lines), targets
