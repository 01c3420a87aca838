"""The MFA models and migration 0003 describe the same tables, on both backends."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from authgate.storage.db import make_engine
from authgate.storage.models import Base

MFA_TABLES = {"mfa_totp", "mfa_recovery_codes", "mfa_challenges"}


def _tables(diff: Any) -> set[str]:
    """Table names a diff entry touches (entries are tuples, or lists of tuples)."""
    names: set[str] = set()
    items = diff if isinstance(diff, list) else [diff]
    for item in items:
        for part in item:
            name = getattr(part, "name", None) if hasattr(part, "columns") else getattr(part, "table", None)
            table_name = getattr(name, "name", name) if name is not None else None
            if isinstance(table_name, str):
                names.add(table_name)
            if isinstance(part, str) and part in MFA_TABLES:
                names.add(part)
    return names


async def test_models_match_migration(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            diffs = await conn.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True}), Base.metadata
                )
            )
    finally:
        await engine.dispose()
    ours = [d for d in diffs if _tables(d) & MFA_TABLES]
    assert ours == []
