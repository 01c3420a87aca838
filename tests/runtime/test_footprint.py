"""What a worker loads: optional libraries only when configured, so that an idle worker stays
small (bench/RESULTS.md measures it). Each case runs in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.support.app import TEST_SECRET

PROBE = """
import gc, json, os, sys
import httpx
import authgate.app
from authgate.runtime.root import Runtime
from authgate.settings import Settings
app = authgate.app.create_app()
runtime = Runtime.build(Settings())
print(json.dumps({
    "loaded": sorted(m for m in ("redis", "asyncpg", "alembic", "zxcvbn") if m in sys.modules),
    "handled": sorted({c.__module__.split(".")[0] for c in app.exception_handlers if isinstance(c, type)}),
    "http_clients": sum(isinstance(o, httpx.AsyncClient) for o in gc.get_objects()),
}))
"""


def probe(**env: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        env={"PATH": "/usr/bin:/bin", "JWT_SECRET": TEST_SECRET, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    answer: dict[str, Any] = json.loads(result.stdout.splitlines()[-1])
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


def test_no_outbound_http_client_until_a_provider_needs_one(tmp_path: Path) -> None:
    """Each client holds a TLS context (about 7 MB). Webhook deliveries make theirs on the
    first delivery (tests/delivery proves those still arrive)."""
    database = f"sqlite+aiosqlite:///{tmp_path}/a.db"
    assert probe(AUTHGATE_DATABASE_URL=database)["http_clients"] == 0
    with_provider = probe(
        AUTHGATE_DATABASE_URL=database,
        AUTHGATE_OAUTH_GITHUB_CLIENT_ID="id",
        AUTHGATE_OAUTH_GITHUB_CLIENT_SECRET="secret",
    )
    assert with_provider["http_clients"] == 1
