"""The delivery and one-time-secret tables agree with the models, and the migrations can be undone and redone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from authgate.storage.db import make_engine
from authgate.storage.migrate import alembic_config, upgrade
from authgate.storage.models import Base

TABLES = {"one_time_secrets", "otp_factors", "outbox", "audit_log", "events", "retired_refresh_tokens"}


def _mine(diff: Any) -> bool:
    """Whether one autogenerate difference concerns a table of this migration."""
    item = diff[0] if isinstance(diff, list) else diff
    for part in item[1:]:
        table = getattr(part, "table", None)
        name = getattr(table, "name", None) or getattr(part, "name", None)
        if name in TABLES:
            return True
    return isinstance(item[2] if len(item) > 2 else None, str) and item[2] in TABLES


async def test_models_match_the_migration(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path}/schema.db")
    await upgrade(engine)
    async with engine.connect() as conn:
        diffs = await conn.run_sync(lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata))
        tables = await conn.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    await engine.dispose()
    assert TABLES <= tables
    assert [d for d in diffs if _mine(d)] == []


async def test_downgrade_and_upgrade_again(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path}/schema.db")
    await upgrade(engine)
    async with engine.begin() as conn:
        await conn.run_sync(lambda sync: command.downgrade(alembic_config(sync), "0001"))
        tables = await conn.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    assert not TABLES & tables
    await upgrade(engine)
    async with engine.connect() as conn:
        tables = await conn.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    await engine.dispose()
    assert TABLES <= tables
