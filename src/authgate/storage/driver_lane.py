"""One driver call per statement, for the hottest statements: a refresh's rotation, and the
lookups of a refresh that did not rotate and of a session the cache does not hold.

Through SQLAlchemy's ORM a statement costs the building of the statement, the session's
machinery and, on SQLite, several thread hand-offs (bench/statement_cost.py). Here the
statements are still built and compiled by SQLAlchemy from the models, once per dialect, and
every value goes through its column type's own bind and result processors, so what is written
and read is exactly what the ORM would write and read; only the call goes straight to the
driver, with no session around it (see `HotLane`).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager, suppress
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement, ColumnElement
from sqlalchemy.util.concurrency import greenlet_spawn

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class Prepared:
    sql: str
    writes: bool  # an INSERT, UPDATE or DELETE (a read never waits for the write turn)
    names: tuple[str, ...]
    binds: tuple[Processor, ...]
    results: tuple[Processor, ...]

    def values(self, params: dict[str, Any]) -> list[Any]:
        """The parameters in the statement's order, as the column types write them."""
        return [
            bind(params[name]) if bind is not None else params[name]
            for name, bind in zip(self.names, self.binds, strict=True)
        ]

    def decoded(self, fetched: Sequence[Sequence[Any]]) -> list[list[Any]]:
        """Rows as the column types read them."""
        return [
            [result(value) if result is not None else value for value, result in zip(row, self.results, strict=True)]
            for row in fetched
        ]


class Statement:
    """A statement with named `bindparam`s and the columns it returns, compiled on first use."""

    def __init__(self, statement: ClauseElement, returns: Sequence[ColumnElement[Any]]) -> None:
        self.statement = statement
        self.returns = tuple(returns)
        self._prepared: dict[str, Prepared] = {}

    def prepare(self, dialect: Dialect) -> Prepared:
        prepared = self._prepared.get(dialect.name)
        if prepared is None:
            compiled = cast(SQLCompiler, self.statement.compile(dialect=dialect))
            names = tuple(compiled.positiontup or ())
            prepared = Prepared(
                sql=compiled.string,
                writes=bool(compiled.isinsert or compiled.isupdate or compiled.isdelete),
                names=names,
                binds=tuple(compiled.binds[name].type.bind_processor(dialect) for name in names),
                results=tuple(column.type.result_processor(dialect, None) for column in self.returns),
            )
            self._prepared[dialect.name] = prepared
        return prepared


class _Busy(Exception):
    """Another connection holds the SQLite file's write lock."""


class HotLane:
    """Runs one statement with the least work around it.

    SQLite: a hand-off to aiosqlite's thread and back costs the event loop several hundred
    microseconds of CPU (a queue, a wake-up, the GIL passed twice); the statement itself, an
    indexed single-row write, costs SQLite about 20-50 µs. So the lane keeps a connection of
    its own on the loop's thread and runs the statement there, synchronously. It must never
    wait: its busy timeout is 0, so if another connection holds the write lock (a transaction
    in this process or another worker) SQLite says so at once, and the statement waits for
    this process's write turn, tries on the loop once more, and else goes the usual way,
    through aiosqlite's thread with the usual busy timeout. While the turn is taken, the
    writes that follow queue for it rather than try the loop. It never checkpoints the
    WAL itself (a checkpoint writes the database file and syncs it): every `CHECKPOINT_EVERY`
    statements it asks aiosqlite's thread for a passive checkpoint, besides those the other
    connections make as they commit.

    PostgreSQL: a pooled connection, borrowed from the engine's pool as a raw connection, and
    asyncpg's `fetch` on it: one round trip, its own transaction (asyncpg autocommits outside
    a transaction block).
    """

    CHECKPOINT_EVERY = 1000

    def __init__(
        self, engine: AsyncEngine, autocommit: AsyncEngine, write_turn: AbstractAsyncContextManager[object]
    ) -> None:
        self.engine = engine
        self.autocommit = autocommit
        self.write_turn = write_turn
        self._turn_taken: Callable[[], bool] = (
            write_turn.locked if isinstance(write_turn, asyncio.Lock) else lambda: False
        )
        self.dialect = engine.dialect
        self.postgres = engine.dialect.name != "sqlite"
        self.driver_errors: tuple[type[Exception], ...] = (sqlite3.Error,)
        if self.postgres:
            import asyncpg  # imported only when PostgreSQL is configured

            self.driver_errors = (asyncpg.PostgresError, asyncpg.InterfaceError)
        database = engine.url.database
        # An in-memory database is one per connection: there the lane has only the thread's.
        self.sqlite_path = database if not self.postgres and database and ":memory:" not in database else None
        self._sqlite: sqlite3.Connection | None = None
        self._since_checkpoint = 0
        self._checkpointing: asyncio.Task[None] | None = None

    async def rows(self, statement: Statement, params: dict[str, Any]) -> list[list[Any]]:
        """Run `statement` on its own (autocommitted); its decoded rows. The driver's errors
        come wrapped as SQLAlchemy's, as through the ORM, without the statement's values (a
        constraint's message can hold one), so that outages and logs treat them alike."""
        prepared = statement.prepare(self.dialect)
        values = prepared.values(params)
        try:
            return prepared.decoded(await self._fetched(prepared, values))
        except self.driver_errors as exc:
            raise DBAPIError(prepared.sql, None, exc, hide_parameters=True) from exc

    async def _fetched(self, prepared: Prepared, values: list[Any]) -> Sequence[Sequence[Any]]:
        sql = prepared.sql
        if self.postgres:
            return await self._postgres(sql, values)
        if self.sqlite_path is None:
            async with self.write_turn:
                return await self._in_thread(sql, values)
        if not (prepared.writes and self._turn_taken()):
            try:
                return self._on_loop(sql, values)
            except _Busy:
                pass
        # While this process's hot write in the thread (or queued for it) holds the file's
        # write lock, a write tried on the loop would only fail again, and each failure would
        # send one more statement to the thread, so that under load they all went there.
        # It queues for the turn instead, then tries on the loop once more.
        async with self.write_turn:
            try:
                return self._on_loop(sql, values)
            except _Busy:
                return await self._in_thread(sql, values)

    def loop_connection(self) -> sqlite3.Connection:
        """The SQLite connection of the loop's thread, opened on first use."""
        if self._sqlite is None:
            assert self.sqlite_path is not None
            connection = sqlite3.connect(self.sqlite_path, timeout=0, isolation_level=None)
            for pragma in ("synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=0", "wal_autocheckpoint=0"):
                connection.execute(f"PRAGMA {pragma}")
            self._sqlite = connection
        return self._sqlite

    def _on_loop(self, sql: str, values: list[Any]) -> list[Any]:
        """The statement on the loop's own connection; `_Busy` at once if the file is locked."""
        try:
            fetched = self.loop_connection().execute(sql, values).fetchall()
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                raise _Busy from exc
            raise
        self._since_checkpoint += 1
        if self._since_checkpoint >= self.CHECKPOINT_EVERY and self._checkpointing is None:
            self._since_checkpoint = 0
            self._checkpointing = asyncio.get_running_loop().create_task(self._checkpoint())
        return fetched

    async def _checkpoint(self) -> None:
        # A failed one is no loss: the next will try again, and other connections checkpoint too.
        with suppress(Exception):
            async with self.autocommit.connect() as connection:
                await connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
        self._checkpointing = None

    async def _in_thread(self, sql: str, values: list[Any]) -> Sequence[Sequence[Any]]:
        """The statement through aiosqlite's thread, which waits out a lock (the caller holds
        the write turn)."""
        async with self.autocommit.connect() as connection:
            driver = (await connection.get_raw_connection()).driver_connection
            assert driver is not None
            found: Sequence[Sequence[Any]] = await driver.execute_fetchall(sql, values)
            return found

    async def _postgres(self, sql: str, values: list[Any]) -> Sequence[Sequence[Any]]:
        borrowed = await self.engine.raw_connection()
        try:
            driver = borrowed.driver_connection
            assert driver is not None
            found: Sequence[Sequence[Any]] = await driver.fetch(sql, *values)
            return found
        finally:
            await greenlet_spawn(borrowed.close)  # back to the pool

    async def close(self) -> None:
        if self._checkpointing is not None:
            await self._checkpointing
        if self._sqlite is not None:
            self._sqlite.close()
            self._sqlite = None
