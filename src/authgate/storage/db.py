"""The async engine and session factory, tuned per backend.

SQLite gets WAL, a busy timeout and `BEGIN IMMEDIATE` transactions: a transaction that reads
then writes can otherwise fail at once with SQLITE_BUSY when another connection writes first,
which busy_timeout cannot help. PostgreSQL relies on conditional updates and unique indexes.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from authgate.storage.sqlite_driver import one_trip_dbapi

AUTOCOMMIT = "authgate_autocommit"


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


@dataclass(frozen=True)
class PoolSettings:
    """How many connections one process keeps (AUTHGATE_DATABASE_POOL_SIZE and the rest)."""

    size: int = 10
    max_overflow: int = 0
    timeout_seconds: float = 10.0  # waiting for a free connection
    connect_timeout_seconds: float = 5.0  # opening one


def make_engine(url: str, pool: PoolSettings = PoolSettings()) -> AsyncEngine:
    # hide_parameters: a failing statement's error never carries its values (a password hash,
    # a token digest) into a log.
    common: dict[str, Any] = {
        "pool_size": pool.size,
        "max_overflow": pool.max_overflow,
        "pool_timeout": pool.timeout_seconds,
        "hide_parameters": True,
    }
    if is_sqlite(url):
        engine = create_async_engine(url, connect_args={"timeout": 30}, module=one_trip_dbapi(), **common)
        _tune_sqlite(engine)
        return engine
    engine = create_async_engine(url, connect_args={"timeout": pool.connect_timeout_seconds}, **common)
    _check_on_checkout(engine)
    return engine


IDLE_PING_SECONDS = 5.0


def _check_on_checkout(engine: AsyncEngine) -> None:
    """A connection the server dropped (a restart, a failover) is replaced, not used.

    SQLAlchemy's `pool_pre_ping` would ask the server on every checkout, and on asyncpg its
    ping is three round trips (BEGIN, a query, ROLLBACK): more than a refresh's whole work.
    Instead: a connection the server closed is known to the driver without asking (a restart
    or an administrator's termination sends a message and closes the socket, which asyncpg
    reads as soon as it comes), and one idle for `IDLE_PING_SECONDS` is pinged, for a link
    that died silently. A busy pool's connections are never idle that long; if one of them
    does die silently, the statement that meets it fails, and the pool replaces it."""
    dialect = engine.sync_engine.dialect

    @event.listens_for(engine.sync_engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if dbapi_connection.driver_connection.is_closed():
            raise DisconnectionError("the server closed the connection")
        if time.monotonic() - record.info.get("idle_since", 0.0) > IDLE_PING_SECONDS:
            try:
                dialect.do_ping(dbapi_connection)
            except Exception as exc:
                raise DisconnectionError("the connection does not answer") from exc


def _tune_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let us issue BEGIN ourselves (pysqlite's implicit BEGIN is DEFERRED).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    dialect = engine.sync_engine.dialect

    def rollback_if_open(dbapi_connection: Any) -> None:
        # Every rollback is a hand-off to the driver's thread, and one runs each time a
        # connection goes back to the pool; after an autocommit read (most requests) no
        # transaction is open and there is nothing to roll back. SQLite itself says whether
        # one is (sqlite3's in_transaction: false outside BEGIN ... COMMIT).
        if dbapi_connection._connection.in_transaction:
            dbapi_connection.rollback()

    dialect.do_rollback = rollback_if_open  # type: ignore[method-assign]

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Autocommit sessions (make_sessionmaker(autocommit=True)) run each statement on its
        # own: no BEGIN, so they hold the write lock only for the statement itself.
        if not connection.get_execution_options().get(AUTOCOMMIT, False):
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_autocommit_engine(engine: AsyncEngine) -> AsyncEngine:
    """`engine`'s pool, with every statement its own transaction: for lookups, and for a write
    that is one conditional statement (rotating a refresh token, consuming a one-time token).
    Work that needs several statements to agree uses `engine` and its transactions.

    On SQLite no lock is then held across the thread hand-offs of a BEGIN ... COMMIT (the
    begin hook skips BEGIN for these connections); on PostgreSQL it saves the round trips."""
    if is_sqlite(engine.url.render_as_string(hide_password=False)):
        return engine.execution_options(**{AUTOCOMMIT: True})
    return engine.execution_options(isolation_level="AUTOCOMMIT")


WRITE_TURN = "authgate_write_turn"


def make_sessionmaker(
    engine: AsyncEngine, write_turn: AbstractAsyncContextManager[object] | None = None
) -> async_sessionmaker[AsyncSession]:
    """Sessions of `engine`; `write_turn` (see `make_write_turn`) rides in each session's
    `info`, for the repositories whose hot single-statement writes take it."""
    return async_sessionmaker(engine, expire_on_commit=False, info={WRITE_TURN: write_turn or nullcontext()})


def upsert_insert(session: AsyncSession) -> Any:
    """The session's database's own `insert`, which has `on_conflict_do_update` and
    `on_conflict_do_nothing`: one statement decides a race on a unique key. PostgreSQL's dialect
    is imported only there, so a SQLite process never loads it (about 2 MB)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert


def write_turn(session: AsyncSession) -> AbstractAsyncContextManager[object]:
    turn: AbstractAsyncContextManager[object] = session.info.get(WRITE_TURN) or nullcontext()
    return turn


async def ping(engine: AsyncEngine) -> None:
    """Raise unless the database answers (readiness)."""
    async with engine.connect() as conn:
        await conn.exec_driver_sql("SELECT 1")


def make_write_turn(url: str) -> AbstractAsyncContextManager[object]:
    """What a hot single-statement write holds while it runs. SQLite has one writer at a time,
    and a connection that finds the file locked sleeps in SQLite's busy handler (a millisecond
    and up); queueing this process's writers on an asyncio lock instead costs nothing. The
    lock covers the statement only, never a lookup or a signature. PostgreSQL needs none."""
    return asyncio.Lock() if is_sqlite(url) else nullcontext()
