"""The `refresh_tokens` model and migration 0002 agree, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from authgate.storage.db import make_engine
from authgate.storage.models import Base


async def test_refresh_tokens_model_matches_the_migration(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True}), Base.metadata
                )
            )
            indexes = await conn.run_sync(lambda sync: inspect(sync).get_indexes("refresh_tokens"))
    finally:
        await engine.dispose()
    assert [d for d in diff if "refresh_tokens" in repr(d)] == []
    assert {i["name"] for i in indexes} >= {"ix_refresh_tokens_session_id", "ix_refresh_tokens_sealed"}
