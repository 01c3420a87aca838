"""`authgate serve --workers 2`: each worker counts in the shared directory the server made for
this run, so one scrape, whichever worker answers it, shows every worker's requests; the
directory is gone once the server stops."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
import pytest

from tests.support.metrics import requests_by_route
from tests.support.server import PATIENCE, Server, wait, worker_pids


def counting_workers(tmp: Path) -> set[str]:
    """The workers that have counted something: each writes its own `counter_<pid>.db`."""
    return {m.group(1) for f in tmp.glob("authgate-metrics-*/counter_*.db") if (m := re.search(r"_(\d+)\.db$", f.name))}


@pytest.mark.slow
def test_one_scrape_shows_the_requests_of_every_worker(tmp_path: Path) -> None:
    tmp = tmp_path / "tmp"  # where the server makes its metrics directory
    tmp.mkdir()
    server = Server(tmp_path, "workers", serve_args=("--workers", "2"), TMPDIR=str(tmp))
    try:
        wait(lambda: len(worker_pids(server.log_path)) == 2, what="both workers started")
        sent = 0
        deadline = time.monotonic() + PATIENCE
        while sent < 100 or len(counting_workers(tmp)) < 2:  # a new connection each: either worker may take it
            assert time.monotonic() < deadline, "two workers never both counted in the shared directory"
            assert httpx.get(f"{server.base}/readyz").status_code == 200
            sent += 1
        assert counting_workers(tmp) == {str(pid) for pid in worker_pids(server.log_path)}
        for _ in range(6):
            scraped = httpx.get(f"{server.base}/metrics")
            assert scraped.status_code == 200, scraped.text
            assert requests_by_route(scraped.text)[("/readyz", "GET", "200")] == sent
    finally:
        server.stop()
    assert server.process.returncode == 0
    assert list(tmp.iterdir()) == []  # the metrics directory went with the server
