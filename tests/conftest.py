"""Shared fixtures: an app per test on each database backend, driven over HTTP with httpx.

Every test that takes `client` (or `make_client`) runs twice: on SQLite and on PostgreSQL.
PostgreSQL cases skip, saying why, when no server answers at AUTHGATE_TEST_POSTGRES_URL;
in CI (`CI=true`) they fail instead, so a missing service cannot pass for a green run.
Each test session gets its own PostgreSQL database, so parallel runs never collide.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from typing import Any, NoReturn

import asyncpg
import httpx
import pytest

from authgate.app import create_app
from authgate.settings import Settings
from authgate.storage.db import make_engine
from authgate.storage.migrate import upgrade

TEST_SECRET = "test-secret-that-is-long-enough-0123456789"
PG_ADMIN_URL = os.environ.get("AUTHGATE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def run_blocking(fn: Callable[[], Any]) -> Any:
    """Run `asyncio.run(fn())` on a fresh thread: session fixtures may be built from inside a
    running test loop, where asyncio.run is not allowed."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(fn())).result()


def skip_or_fail(reason: str, env: Mapping[str, str] | None = None) -> NoReturn:
    """Skip a case whose service is missing, but fail it in CI (`CI=true`): there a missing
    server is a broken pipeline, and a skip would let it pass unnoticed."""
    environ = os.environ if env is None else env
    if environ.get("CI", "").strip().lower() == "true":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def _pg_available() -> str | None:
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
    reason = _pg_available()
    if reason:
        skip_or_fail(reason)
    name = f"authgate_{label}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    run_blocking(lambda: pg_admin(f'CREATE DATABASE "{name}"'))
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        run_blocking(lambda: pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, migrated once; dropped at the end."""
    with fresh_pg_database("test") as url:

        async def migrate() -> None:
            engine = make_engine(url)
            await upgrade(engine)
            await engine.dispose()

        run_blocking(migrate)
        yield url


SEEDED = ("roles", "audit_chain")  # tables the migrations fill: reset, not emptied


async def _truncate_pg(url: str) -> None:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        tables = await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> ALL($1::text[])",
            ["alembic_version", *SEEDED],
        )
        if tables:
            names = ", ".join(f'"{t["tablename"]}"' for t in tables)
            await conn.execute(f"TRUNCATE {names} CASCADE")
        # Rows the migrations seed go back to how a fresh database has them.
        await conn.execute("DELETE FROM roles WHERE name NOT IN ('user', 'admin')")
        await conn.execute("UPDATE roles SET caps = CASE name WHEN 'admin' THEN '[\"*\"]' ELSE '[]' END")
        await conn.execute("UPDATE audit_chain SET seq = 0, hash = $1", "0" * 64)
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Any) -> str:
    if backend == "postgres":
        url: str = request.getfixturevalue("pg_database")
        await _truncate_pg(url)
        return url
    url = f"sqlite+aiosqlite:///{tmp_path}/authgate.db"
    engine = make_engine(url)
    await upgrade(engine)
    await engine.dispose()
    return url


@pytest.fixture
def make_settings(database_url: str) -> Callable[..., Settings]:
    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "jwt_secret": TEST_SECRET,
            "database_url": database_url,
            "bcrypt_rounds": 4,
            "cookie_secure": False,
            "public_url": "http://testserver",
            "rate_limits": "off",  # the abuse-protection tests turn them on
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    return build


ClientFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def make_client(make_settings: Callable[..., Settings]) -> ClientFactory:
    """`async with make_client(**setting_overrides) as client:` an app with its lifespan run."""

    @asynccontextmanager
    async def factory(**overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(make_settings(**overrides))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 5000))
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                client.app = app  # type: ignore[attr-defined]
                yield client

    return factory


@pytest.fixture
async def client(make_client: ClientFactory) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client() as c:
        yield c


@pytest.fixture
def server_database(backend: str) -> Iterator[dict[str, str]]:
    """The environment that gives a real `authgate serve` (tests/e2e/server.py) a fresh database
    of the test's backend: none on SQLite (the server's work directory holds one), a new
    PostgreSQL database, migrated by the server itself at start and dropped after the test."""
    if backend == "sqlite":
        yield {}
        return
    with fresh_pg_database("server") as url:
        yield {"AUTHGATE_DATABASE_URL": url}
