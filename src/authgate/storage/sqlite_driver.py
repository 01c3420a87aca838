"""SQLAlchemy's aiosqlite adapter, with one trip to the driver's thread per statement.

aiosqlite runs every call on the connection's own thread, and each call is a trip there and
back: a queue, a wake-up of the event loop, the GIL passed twice, about a hundred
microseconds of the loop's CPU. SQLAlchemy's adapter makes four trips for a statement that
returns rows (open a cursor, execute, fetch, close) and three for one that does not, where
the statement itself costs SQLite a few tens of microseconds. Here a statement makes one:
the cursor is opened, run, read to the end and closed in the driver's thread, and the adapter
keeps what SQLAlchemy asks of it afterwards (the description, the row count, the last row id)
with the rows. Everything else (server-side cursors, commit, rollback, errors) is the
adapter's own.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Sequence
from typing import Any

from sqlalchemy.connectors.asyncio import AsyncAdapt_dbapi_connection
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT


class _Ran:
    """What SQLAlchemy reads of a cursor after its statement ran, kept from the closed one."""

    __slots__ = ("arraysize", "description", "lastrowid", "rowcount")

    def __init__(self, cursor: sqlite3.Cursor | None = None) -> None:
        self.description = cursor.description if cursor is not None else None
        self.rowcount = cursor.rowcount if cursor is not None else -1
        self.lastrowid = cursor.lastrowid if cursor is not None else None
        self.arraysize = cursor.arraysize if cursor is not None else 1

    def close(self) -> None:
        """Closed already, in the driver's thread."""


_NOT_RUN = _Ran()


def _run(connection: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> tuple[_Ran, Sequence[Any]]:
    """In the driver's thread: the whole life of one cursor."""
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        rows = cursor.fetchall() if cursor.description else ()
        return _Ran(cursor), rows  # after the fetch: a RETURNING statement counts its rows as read
    finally:
        cursor.close()


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ()
    _awaitable_cursor_close = False  # nothing is left open in the driver's thread

    def __init__(self, adapt_connection: AsyncAdapt_dbapi_connection) -> None:
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = _NOT_RUN  # type: ignore[assignment]
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()

    async def _execute_async(self, operation: Any, parameters: Any) -> None:
        await self._trip(operation, parameters, many=False)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> None:
        await self._trip(operation, seq_of_parameters, many=True)

    async def _trip(self, operation: Any, parameters: Any, *, many: bool) -> None:
        driver: Any = self._connection
        async with self._adapt_connection._execute_mutex:
            ran, rows = await driver._execute(_run, driver._conn, operation, parameters, many)
        self._cursor = ran
        self._rows = collections.deque(rows)


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = OneTripCursor


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """The DB-API module SQLAlchemy's aiosqlite dialect is given (`create_async_engine(...,
    module=...)`), whose connections make one trip per statement."""

    def connect(self, *args: Any, **kwargs: Any) -> OneTripConnection:
        adapted = super().connect(*args, **kwargs)
        return OneTripConnection(self, adapted._connection)


def one_trip_dbapi() -> OneTripDBAPI:
    import aiosqlite

    return OneTripDBAPI(aiosqlite, sqlite3)
