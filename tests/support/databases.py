"""The databases and Redis the tests run on: fresh PostgreSQL databases, resetting the
session's shared one, a Redis server of a test's own, and real database faults.

PostgreSQL cases skip, saying why, when no server answers at AUTHGATE_TEST_POSTGRES_URL;
in CI (`CI=true`) they fail instead (see skip.py). Redis is at AUTHGATE_TEST_REDIS_URL."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import redis
from sqlalchemy import text

from tests.support.app import runtime
from tests.support.server import PATIENCE, free_port
from tests.support.skip import skip_or_fail

PG_ADMIN_URL = os.environ.get("AUTHGATE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("AUTHGATE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
SEEDED = ("roles", "audit_chain")  # tables the migrations fill: reset, not emptied


def run_blocking(fn: Callable[[], Any]) -> Any:
    """Run `asyncio.run(fn())` on a fresh thread: session fixtures may be built from inside a
    running test loop, where asyncio.run is not allowed."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(fn())).result()


def pg_unavailable() -> str | None:
    """Why no PostgreSQL answers at PG_ADMIN_URL, or None when one does."""

    async def probe() -> None:
        conn = await asyncpg.connect(PG_ADMIN_URL, timeout=3)
        await conn.close()

    try:
        run_blocking(probe)
    except Exception as exc:
        return f"PostgreSQL not reachable at {PG_ADMIN_URL}: {type(exc).__name__}"
    return None


async def pg_admin(sql: str) -> None:
    """One statement as the PostgreSQL admin (creating or dropping a test database)."""
    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextmanager
def fresh_pg_database(label: str) -> Iterator[str]:
    """A new, empty PostgreSQL database (its `postgresql+asyncpg://` URL), dropped afterwards;
    skip_or_fail when no server answers."""
    reason = pg_unavailable()
    if reason:
        skip_or_fail(reason)
    name = f"authgate_{label}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    run_blocking(lambda: pg_admin(f'CREATE DATABASE "{name}"'))
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        run_blocking(lambda: pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def truncate_pg(url: str) -> None:
    """Every table of the database at `url` back to how a freshly migrated one has it.

    DELETE with the foreign keys' triggers off (`session_replication_role = replica`, one
    transaction), not TRUNCATE: a test leaves a few rows in a few tables, and TRUNCATE gives each
    of 20-odd tables new files (a tenth of a second per test, on half the suite)."""
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        tables = await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> ALL($1::text[])",
            ["alembic_version", *SEEDED],
        )
        async with conn.transaction():
            await conn.execute("SET LOCAL session_replication_role = replica")
            for table in tables:
                await conn.execute(f'DELETE FROM "{table["tablename"]}"')  # noqa: S608 (names from pg_tables)
            # Rows the migrations seed go back to how a fresh database has them.
            await conn.execute("DELETE FROM roles WHERE name NOT IN ('user', 'admin')")
            await conn.execute("UPDATE roles SET caps = CASE name WHEN 'admin' THEN '[\"*\"]' ELSE '[]' END")
            await conn.execute("UPDATE audit_chain SET seq = 0, hash = $1", "0" * 64)
    finally:
        await conn.close()


@asynccontextmanager
async def fault(client: httpx.AsyncClient, *, table: str, when: str) -> AsyncIterator[None]:
    """A real database fault: a trigger that aborts `when` (e.g. "UPDATE OF revoked_at") on
    `table`, so a use case fails half-way through without any of our code being replaced."""
    rt = runtime(client)
    if rt.engine.dialect.name == "sqlite":
        create = [f"CREATE TRIGGER injected_fault BEFORE {when} ON {table} BEGIN SELECT RAISE(ABORT, 'injected'); END"]
        drop = ["DROP TRIGGER injected_fault"]
    else:
        create = [
            "CREATE FUNCTION injected_fault() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'injected'; END $$ "
            "LANGUAGE plpgsql",
            f"CREATE TRIGGER injected_fault BEFORE {when} ON {table} FOR EACH ROW EXECUTE FUNCTION injected_fault()",
        ]
        drop = [f"DROP TRIGGER injected_fault ON {table}", "DROP FUNCTION injected_fault()"]
    async with rt.db.begin() as db:
        for statement in create:
            await db.execute(text(statement))
    try:
        yield
    finally:
        async with rt.db.begin() as db:
            for statement in drop:
                await db.execute(text(statement))


class PrivateRedis:
    """A redis-server of this test's own, on a free port, keeping nothing on disk: it can be
    killed and started again empty on the same port (the shared one on 6379 is never touched)."""

    def __init__(self, binary: str, workdir: Path) -> None:
        self.binary = binary
        self.workdir = workdir
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=self.workdir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        probe = redis.Redis(port=self.port, socket_timeout=1, socket_connect_timeout=1)
        deadline = time.monotonic() + PATIENCE
        try:
            while True:
                try:
                    probe.ping()
                    return
                except redis.ConnectionError:
                    if time.monotonic() > deadline or self.process.poll() is not None:
                        raise RuntimeError("redis-server did not start") from None
                    time.sleep(0.05)
        finally:
            probe.close()

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None
