"""Users and sessions written in bulk, straight into the database, for the scale benchmark.

Every row is what the product itself would have written: ids shaped as its UUIDs, the email's
key as `security.identifiers` makes it, timestamps in each backend's storage format, the
refresh token's SHA-256 digest as `security.tokens.digest` stores it. Seeded user i signs in
with `SEED_PASSWORD`; seeded session i refreshes with `seed_refresh_token(i)`. One bcrypt hash
serves every user: hashing a million passwords is not what is measured.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from authgate.security.hashing import StoredHash
from authgate.security.identifiers import email_key, normalize_email
from authgate.security.opaque import digest
from authgate.storage.db import make_engine
from authgate.storage.migrate import upgrade

SEED_PASSWORD = "Seeded-Pass-42"
USER_ID = "00000000-0000-4000-8000-"  # + 12 digits
SESSION_ID = "00000000-0000-4000-9000-"


def seed_email(i: int) -> str:
    return f"seed{i}@bench.example.com"


def seed_refresh_token(i: int) -> str:
    return f"bench-seeded-refresh-token-{i:012d}"


def _migrate(database_url: str) -> None:
    async def run() -> None:
        engine = make_engine(database_url)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(run())


def _sqlite_path(database_url: str) -> str:
    return database_url.split(":///", 1)[1]


def _postgres_dsn(database_url: str) -> str:
    return database_url.replace("postgresql+asyncpg://", "postgresql://", 1)


def seed(database_url: str, *, users: int, sessions: int, password_hash: StoredHash) -> float:
    """Grow the database to `users` seeded users and `sessions` seeded sessions (session i
    belongs to user i); rows already there are kept. Returns the seconds spent."""
    assert email_key(normalize_email(seed_email(7))) == seed_email(7)  # the key is the address itself
    _migrate(database_url)
    started = time.perf_counter()
    now = datetime.now(UTC).replace(microsecond=0)
    far = now + timedelta(days=365)
    if database_url.startswith("sqlite"):
        _seed_sqlite(_sqlite_path(database_url), users, sessions, password_hash, now, far)
    else:
        asyncio.run(_seed_postgres(_postgres_dsn(database_url), users, sessions, password_hash, now, far))
    return time.perf_counter() - started


def _sqlite_time(moment: datetime) -> str:
    """As SQLAlchemy stores a UTC datetime in SQLite (UTCDateTime drops the zone)."""
    return moment.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def _seed_sqlite(path: str, users: int, sessions: int, password_hash: StoredHash, now: datetime, far: datetime) -> None:
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.create_function("refresh_digest", 1, lambda i: digest(seed_refresh_token(i)), deterministic=True)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=OFF")  # a bulk load; restored by closing the connection
        db.execute("PRAGMA cache_size=-200000")
        have_users = db.execute(
            "SELECT count(*) FROM users WHERE id >= ? AND id < ?", (USER_ID, USER_ID[:-1] + "~")
        ).fetchone()[0]
        have_sessions = db.execute(
            "SELECT count(*) FROM sessions WHERE id >= ? AND id < ?", (SESSION_ID, SESSION_ID[:-1] + "~")
        ).fetchone()[0]
        stamp, until = _sqlite_time(now), _sqlite_time(far)
        db.execute("BEGIN")
        if users > have_users:
            db.execute(
                "WITH RECURSIVE n(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?) "
                "INSERT INTO users (id, email, email_key, role, password_hash, password_scheme, email_verified, "
                "phone_verified, mfa_enabled, disabled, created_at, updated_at) "
                "SELECT ? || printf('%012d', i), 'seed' || i || '@bench.example.com', "
                "'seed' || i || '@bench.example.com', 'user', ?, ?, 1, 0, 0, 0, ?, ? FROM n",
                (have_users, users, USER_ID, password_hash.value, password_hash.scheme, stamp, stamp),
            )
        if sessions > have_sessions:
            db.execute(
                "WITH RECURSIVE n(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?) "
                "INSERT INTO sessions (id, user_id, amr, created_at, last_used_at, expires_at, refresh_hash) "
                "SELECT ? || printf('%012d', i), ? || printf('%012d', i), 'pwd', ?, ?, ?, refresh_digest(i) FROM n",
                (have_sessions, sessions, SESSION_ID, USER_ID, stamp, stamp, until),
            )
        db.execute("COMMIT")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.execute("ANALYZE")
    finally:
        db.close()


async def _seed_postgres(
    dsn: str, users: int, sessions: int, password_hash: StoredHash, now: datetime, far: datetime
) -> None:
    db = await asyncpg.connect(dsn)
    try:
        have_users = await db.fetchval(
            "SELECT count(*) FROM users WHERE id >= $1 AND id < $2", USER_ID, USER_ID[:-1] + "~"
        )
        have_sessions = await db.fetchval(
            "SELECT count(*) FROM sessions WHERE id >= $1 AND id < $2", SESSION_ID, SESSION_ID[:-1] + "~"
        )
        async with db.transaction():
            if users > have_users:
                await db.execute(
                    "INSERT INTO users (id, email, email_key, role, password_hash, password_scheme, email_verified, "
                    "phone_verified, mfa_enabled, disabled, created_at, updated_at) "
                    "SELECT $1 || lpad(i::text, 12, '0'), 'seed' || i || '@bench.example.com', "
                    "'seed' || i || '@bench.example.com', 'user', $2, $6, true, false, false, false, $3, $3 "
                    "FROM generate_series($4::bigint, $5::bigint - 1) AS i",
                    USER_ID,
                    password_hash.value,
                    now,
                    have_users,
                    users,
                    password_hash.scheme,
                )
            if sessions > have_sessions:
                # digest(): SHA-256, base64url without padding (32 bytes: 44 characters, no line breaks)
                await db.execute(
                    "INSERT INTO sessions (id, user_id, amr, created_at, last_used_at, expires_at, refresh_hash) "
                    "SELECT $1 || lpad(i::text, 12, '0'), $2 || lpad(i::text, 12, '0'), 'pwd', $3, $3, $4, "
                    "rtrim(translate(encode(sha256(convert_to('bench-seeded-refresh-token-' || lpad(i::text, 12, '0'), "
                    "'UTF8')), 'base64'), '+/', '-_'), '=') "
                    "FROM generate_series($5::bigint, $6::bigint - 1) AS i",
                    SESSION_ID,
                    USER_ID,
                    now,
                    far,
                    have_sessions,
                    sessions,
                )
        # As autovacuum would leave them: statistics, and the visibility map and hint bits set,
        # so that the first reads of freshly loaded rows do not pay for setting them.
        await db.execute("VACUUM (ANALYZE) users")
        await db.execute("VACUUM (ANALYZE) sessions")
        # Write the load's pages out now: otherwise the checkpointer spreads the flush over the
        # next minutes, and its writes land in the middle of what is measured next.
        await db.execute("CHECKPOINT")
    finally:
        await db.close()


def database_bytes(database_url: str) -> int:
    if database_url.startswith("sqlite"):
        path = Path(_sqlite_path(database_url))
        return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())

    async def size() -> int:
        db = await asyncpg.connect(_postgres_dsn(database_url))
        try:
            return int(await db.fetchval("SELECT pg_database_size(current_database())"))
        finally:
            await db.close()

    return asyncio.run(size())


def table_bytes(database_url: str) -> dict[str, int]:
    """users and sessions, each with its indexes."""
    if database_url.startswith("sqlite"):
        db = sqlite3.connect(_sqlite_path(database_url))
        try:
            rows = db.execute(
                "SELECT coalesce(i.tbl_name, d.name), sum(d.pgsize) FROM dbstat d "
                "LEFT JOIN sqlite_master i ON i.name = d.name GROUP BY 1"
            ).fetchall()
        except sqlite3.OperationalError:  # dbstat not compiled in
            return {}
        finally:
            db.close()
        sizes = dict(rows)
        return {table: int(sizes.get(table, 0)) for table in ("users", "sessions")}

    async def sizes() -> dict[str, int]:
        db = await asyncpg.connect(_postgres_dsn(database_url))
        try:
            return {t: int(await db.fetchval("SELECT pg_total_relation_size($1)", t)) for t in ("users", "sessions")}
        finally:
            await db.close()

    return asyncio.run(sizes())
