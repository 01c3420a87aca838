"""Several nodes starting at once on one fresh PostgreSQL database all come up: one migrates,
the others wait for it and find nothing left to do."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg

from authgate.storage.db import make_engine
from authgate.storage.migrate import upgrade
from tests.conftest import PG_ADMIN_URL, _pg_available, skip_or_fail


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def test_four_nodes_migrating_one_fresh_database_at_once_all_succeed() -> None:
    reason = _pg_available()
    if reason:
        skip_or_fail(reason)
    name = f"authgate_migrate_{uuid.uuid4().hex[:10]}"
    await _admin(f'CREATE DATABASE "{name}"')
    url = f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}".replace("postgresql://", "postgresql+asyncpg://", 1)
    engines = [make_engine(url) for _ in range(4)]
    try:
        # Without the lock they collide (duplicate objects) or wait on each other for good.
        both = asyncio.gather(*(upgrade(engine) for engine in engines), return_exceptions=True)
        results = await asyncio.wait_for(both, timeout=60)
        assert [r for r in results if isinstance(r, BaseException)] == []
        conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
        try:
            versions = await conn.fetch("SELECT version_num FROM alembic_version")
            users = await conn.fetchval("SELECT count(*) FROM users")
        finally:
            await conn.close()
        assert len(versions) == 1 and users == 0
    finally:
        for engine in engines:
            await engine.dispose()
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
