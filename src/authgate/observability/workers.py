"""Where the workers of one `authgate serve --workers N` count their metrics together.

Kept apart from `metrics` on purpose: prometheus_client chooses where a value lives when it is
imported, so the directory must be named before anything imports it."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

SHARED_DIRECTORY_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"  # read by prometheus_client when it is imported


def share_across_workers(workers: int) -> None:
    """With several workers, give them a fresh private directory to count in, removed when the
    server exits. It must be set before the workers start, and before prometheus_client is
    imported. A directory left from an earlier run would add its counts."""
    if workers <= 1:
        return
    directory = tempfile.mkdtemp(prefix="authgate-metrics-")  # mode 0700
    os.environ[SHARED_DIRECTORY_VARIABLE] = directory
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
