"""Users and sessions written in bulk, straight into the database, for the scale benchmark.

Every row is what the product itself would have written: ids shaped as its UUIDs, the email's
key as `security.identifiers` makes it, timestamps in each backend's storage format, the
refresh token's SHA-256 digest as `security.tokens.digest` stores it. Seeded user i signs in
with `SEED_PASSWORD`; seeded session i refreshes with `seed_refresh_token(i)`. One bcrypt hash
serves every user: hashing a million passwords is not what is measured.

Authorization codes for the token endpoint's benchmark (`seed_codes`) are one-time rows of
purpose `oauth_code`, each as the authorize endpoint writes one for a signed-in browser
(services/oauth2/authorize.py, `issue_code`): the code's digest, the binding JSON (client,
redirect URI, PKCE challenge, nonce, scopes, the session's id, sign-in time and methods),
bound to a seeded user and that user's seeded session. Only their lifetime differs: a year,
not 60 seconds, since they are written before the run that spends them.
"""

from __future__ import annotations

import asyncio
import json
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
from authgate.storage.models import new_id
from authgate.storage.models.one_time import OAUTH_CODE

SEED_PASSWORD = "Seeded-Pass-42"
USER_ID = "00000000-0000-4000-8000-"  # + 12 digits
SESSION_ID = "00000000-0000-4000-9000-"


def seed_email(i: int) -> str:
    return f"seed{i}@bench.example.com"


def seed_refresh_token(i: int) -> str:
    return f"bench-seeded-refresh-token-{i:012d}"


def seed_code(i: int) -> str:
    return f"bench-seeded-code-{i:012d}"


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


# --- authorization codes ---------------------------------------------------------------------------

CODE_COLUMNS = (
    "id",
    "purpose",
    "user_id",
    "digest",
    "data",
    "attempts",
    "max_attempts",
    "created_at",
    "expires_at",
)


def seed_codes(
    database_url: str,
    *,
    client_id: str,
    redirect_uri: str,
    challenge: str,
    scopes: list[str],
    first: int,
    count: int,
    sessions: int,
) -> float:
    """Write codes `seed_code(first)` .. `seed_code(first + count - 1)` for `client_id`, code i
    bound to seeded session i % `sessions` and its user (the sessions must be seeded already).
    Returns the seconds spent."""
    started = time.perf_counter()
    now = datetime.now(UTC)
    far = now + timedelta(days=365)
    if database_url.startswith("sqlite"):
        _seed_codes_sqlite(
            _sqlite_path(database_url), client_id, redirect_uri, challenge, scopes, first, count, sessions, now, far
        )
    else:
        asyncio.run(
            _seed_codes_postgres(
                _postgres_dsn(database_url),
                client_id,
                redirect_uri,
                challenge,
                scopes,
                first,
                count,
                sessions,
                now,
                far,
            )
        )
    return time.perf_counter() - started


def _code_rows(
    bound_to: list[tuple[str, str, datetime, str]],
    client_id: str,
    redirect_uri: str,
    challenge: str,
    scopes: list[str],
    first: int,
    count: int,
) -> list[tuple[str, str, str, str, str]]:
    """(id, purpose, user id, digest, data) per code, as `issue_code` makes them; `bound_to`
    holds the sessions' (id, user id, created at, amr)."""
    rows = []
    for i in range(first, first + count):
        session_id, user_id, signed_in, amr = bound_to[i % len(bound_to)]
        binding = {
            "client": client_id,
            "redirect_uri": redirect_uri,
            "challenge": challenge,
            "nonce": f"bench-nonce-{i}",
            "scopes": scopes,
            "sid": session_id,
            "auth_time": signed_in.isoformat(),
            "amr": amr.split(","),
        }
        rows.append((new_id(), OAUTH_CODE, user_id, digest(seed_code(i)), json.dumps(binding)))
    return rows


def _seed_codes_sqlite(
    path: str,
    client_id: str,
    redirect_uri: str,
    challenge: str,
    scopes: list[str],
    first: int,
    count: int,
    sessions: int,
    now: datetime,
    far: datetime,
) -> None:
    db = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        found = db.execute(
            "SELECT id, user_id, created_at, amr FROM sessions WHERE id >= ? AND id < ? ORDER BY id LIMIT ?",
            (SESSION_ID, SESSION_ID[:-1] + "~", sessions),
        ).fetchall()
        assert len(found) == sessions, f"seed {sessions} sessions first"
        bound_to = [(sid, uid, datetime.fromisoformat(at).replace(tzinfo=UTC), amr) for sid, uid, at, amr in found]
        rows = _code_rows(bound_to, client_id, redirect_uri, challenge, scopes, first, count)
        stamp, until = _sqlite_time(now), _sqlite_time(far)
        db.execute("BEGIN IMMEDIATE")
        db.executemany(
            f"INSERT INTO one_time_secrets ({', '.join(CODE_COLUMNS)}) VALUES (?, ?, ?, ?, ?, 0, 1, ?, ?)",
            [(*row, stamp, until) for row in rows],
        )
        db.execute("COMMIT")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()


async def _seed_codes_postgres(
    dsn: str,
    client_id: str,
    redirect_uri: str,
    challenge: str,
    scopes: list[str],
    first: int,
    count: int,
    sessions: int,
    now: datetime,
    far: datetime,
) -> None:
    db = await asyncpg.connect(dsn)
    try:
        found = await db.fetch(
            "SELECT id, user_id, created_at, amr FROM sessions WHERE id >= $1 AND id < $2 ORDER BY id LIMIT $3",
            SESSION_ID,
            SESSION_ID[:-1] + "~",
            sessions,
        )
        assert len(found) == sessions, f"seed {sessions} sessions first"
        bound_to = [(r["id"], r["user_id"], r["created_at"], r["amr"]) for r in found]
        rows = _code_rows(bound_to, client_id, redirect_uri, challenge, scopes, first, count)
        await db.copy_records_to_table(
            "one_time_secrets", records=[(*row, 0, 1, now, far) for row in rows], columns=list(CODE_COLUMNS)
        )
        await db.execute("VACUUM (ANALYZE) one_time_secrets")
        await db.execute("CHECKPOINT")
    finally:
        await db.close()
