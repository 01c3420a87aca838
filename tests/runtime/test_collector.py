"""A served worker keeps what it made at start-up out of the garbage collector's reach, so that
a full collection (which requests spread over many sessions set off every few seconds) walks
what requests made since, not the whole application (bench/RESULTS.md, /profile over 1,000
sessions). Each case runs `authgate serve` in a fresh interpreter and asks every serving
process, by a signal, what its collector sees."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support.server import free_port, server_env, wait, wait_healthy

pytestmark = pytest.mark.slow  # real processes

# `authgate serve` with a SIGUSR1 handler (forked workers keep it) that writes what the
# collector sees in this process to <reports>/<pid>.json.
SERVE = """
import gc, json, os, signal, sys
from pathlib import Path
reports = Path(sys.argv[1])
def report(_signum, _frame):
    seen = {"frozen": gc.get_freeze_count(), "tracked": len(gc.get_objects())}
    (reports / f"{os.getpid()}.json").write_text(json.dumps(seen))
signal.signal(signal.SIGUSR1, report)
from authgate.cli import main
sys.argv = ["authgate", *sys.argv[2:]]
main()
"""


def what_each_worker_collects(workdir: Path, *serve_args: str) -> list[dict[str, int]]:
    reports = workdir / "reports"
    reports.mkdir()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = workdir / "server.log"
    command = [sys.executable, "-c", SERVE, str(reports), "serve", "--host", "127.0.0.1", "--port", str(port)]
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [*command, *serve_args], cwd=workdir, env=server_env(workdir, port), stdout=log, stderr=subprocess.STDOUT
        )
    try:
        wait_healthy(process, base, log_path)
        for _ in range(20):
            httpx.get(f"{base}/healthz", timeout=5).raise_for_status()
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
        workers = [int(pid) for pid in children] or [process.pid]
        for pid in workers:
            os.kill(pid, signal.SIGUSR1)
        wait(lambda: len(list(reports.iterdir())) == len(workers), what="a report from every worker")
        return [json.loads(path.read_text()) for path in sorted(reports.iterdir())]
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_served_worker_has_frozen_its_start_up_heap(tmp_path: Path, workers: int) -> None:
    seen = what_each_worker_collects(tmp_path, "--workers", str(workers))
    assert len(seen) == workers
    for worker in seen:
        # Modules, the app and its runtime: some 150,000 objects, all frozen; the collector
        # walks only what the few requests since made (hundreds). Frozen before the fork alone,
        # a worker's own app and runtime (thousands) would be left in reach.
        assert worker["frozen"] > 50 * worker["tracked"], worker
