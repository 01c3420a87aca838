"""Several nodes starting at once on one fresh PostgreSQL database all come up: one migrates,
the others wait for it and find nothing left to do."""

from __future__ import annotations

import asyncio

import asyncpg

from authgate.storage.db import make_engine
from authgate.storage.migrate import upgrade
from tests.support.databases import fresh_pg_database


async def test_four_nodes_migrating_one_fresh_database_at_once_all_succeed() -> None:
    with fresh_pg_database("migrate") as url:
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
