"""A refresh finds its session through an index even after the database has statistics.

Most sessions have no previous refresh token yet. Before migration 0012, SQLite's statistics
(`ANALYZE`) counted those empty values as one value shared by most rows, and the lookup
(`refresh_hash = ? OR previous_refresh_hash = ?`) read the whole table instead: 17 ms at 100k
sessions. PostgreSQL keeps a separate fraction of empty values and never made that choice, so
this case is SQLite's."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from authgate.storage.db import make_engine
from authgate.storage.migrate import upgrade
from authgate.storage.repositories.sessions import _FIND_BY_REFRESH

SESSIONS = 2_000


async def test_the_refresh_lookup_uses_the_indexes_after_analyze(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/plan.db"
    engine = make_engine(url)
    try:
        await upgrade(engine)
        statement = _FIND_BY_REFRESH.prepare(engine.sync_engine.dialect).sql
    finally:
        await engine.dispose()
    db = sqlite3.connect(tmp_path / "plan.db")
    try:
        db.execute(
            "INSERT INTO users (id, email, email_key, role, email_verified, phone_verified, mfa_enabled, disabled,"
            " created_at, updated_at) VALUES ('u', 'a@example.com', 'a@example.com', 'user', 1, 0, 0, 0,"
            " '2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000')"
        )
        db.executemany(
            "INSERT INTO sessions (id, user_id, amr, created_at, last_used_at, expires_at, refresh_hash)"
            " VALUES (?, 'u', 'pwd', '2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000',"
            " '2030-01-01 00:00:00.000000', ?)",
            [(f"s{i}", f"digest-{i}") for i in range(SESSIONS)],
        )
        db.commit()
        db.execute("ANALYZE")
        plan = " / ".join(row[3] for row in db.execute(f"EXPLAIN QUERY PLAN {statement}", ("x", "x")))
    finally:
        db.close()
    assert "SCAN sessions" not in plan, plan
    assert "ix_sessions_refresh_hash" in plan and "ix_sessions_previous_refresh_hash" in plan, plan
