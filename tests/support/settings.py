"""Starting authgate's command line with a given environment only, and what a refused
configuration must look like: one line naming the variable, no traceback."""

from __future__ import annotations

import subprocess
import sys

SECRET = "s" * 40  # a JWT_SECRET long enough to be accepted


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {"PATH": "/usr/bin:/bin", "HOME": "/tmp"}
    return subprocess.run(
        [sys.executable, "-m", "authgate", *args],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
        cwd="/tmp",
    )


def assert_stops_naming(env: dict[str, str], name: str) -> None:
    """The process stops at start with one line, naming the variable, and no traceback."""
    result = run_cli("migrate", env=env)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert name in lines[0]
    assert "Traceback" not in result.stderr
