"""What a worker loads: optional libraries only when configured, so that an idle worker stays
small (bench/RESULTS.md measures it). Each case runs in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import TEST_SECRET

PROBE = """
import json, os, sys
import authgate.app
app = authgate.app.create_app()
print(json.dumps({
    "loaded": sorted(m for m in ("redis", "asyncpg", "alembic", "zxcvbn") if m in sys.modules),
    "handled": sorted({c.__module__.split(".")[0] for c in app.exception_handlers if isinstance(c, type)}),
}))
"""


def probe(**env: str) -> dict[str, list[str]]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        env={"PATH": "/usr/bin:/bin", "JWT_SECRET": TEST_SECRET, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    answer: dict[str, list[str]] = json.loads(result.stdout.splitlines()[-1])
    return answer


def test_sqlite_without_redis_loads_no_driver_and_no_migration_tooling(tmp_path: Path) -> None:
    seen = probe(AUTHGATE_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/a.db")
    assert seen["loaded"] == []
    assert "redis" not in seen["handled"] and "asyncpg" not in seen["handled"]


def test_postgres_and_redis_errors_are_still_handled_when_configured() -> None:
    seen = probe(
        AUTHGATE_DATABASE_URL="postgresql+asyncpg://postgres@127.0.0.1:5432/test",
        AUTHGATE_REDIS_URL="redis://127.0.0.1:6379/0",
    )
    assert {"asyncpg", "redis"} <= set(seen["loaded"])
    assert {"asyncpg", "redis"} <= set(seen["handled"])
