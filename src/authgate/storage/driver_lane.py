"""One driver call per statement, for the hottest statements (a refresh's lookup and rotation).

Through SQLAlchemy's ORM a statement costs the building of the statement, the session's
machinery and, on SQLite, several thread hand-offs (bench/statement_cost.py: ~2.9 ms for a
refresh's lookup and rotation on SQLite, ~0.3 ms for the same two statements handed straight
to the driver). Here the statements are still built and compiled by SQLAlchemy from the
models, once per dialect, and every value goes through its column type's own bind and result
processors, so what is written and read is exactly what the ORM would write and read; only
the call goes straight to the driver: aiosqlite's `execute_fetchall`, or asyncpg's `fetch`
(which keeps the statement prepared). On PostgreSQL a refresh cost about 1.8 ms of the event
loop's CPU through the ORM and about 1.3 ms through the lane.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement, ColumnElement

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class Prepared:
    sql: str
    names: tuple[str, ...]
    binds: tuple[Processor, ...]
    results: tuple[Processor, ...]


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
                names=names,
                binds=tuple(compiled.binds[name].type.bind_processor(dialect) for name in names),
                results=tuple(column.type.result_processor(dialect, None) for column in self.returns),
            )
            self._prepared[dialect.name] = prepared
        return prepared


def takes_lane(db: AsyncSession) -> bool:
    """SQLite always; PostgreSQL (asyncpg) only on an autocommit connection, where a
    statement handed straight to the driver is its own transaction just as through
    SQLAlchemy (inside a transaction, SQLAlchemy's adapter opens it lazily, and a statement
    passed around it would run outside)."""
    bind = db.bind
    if bind is None:
        return False
    if bind.dialect.name == "sqlite":
        return True
    options = bind.sync_engine.get_execution_options()
    return bind.dialect.driver == "asyncpg" and options.get("isolation_level") == "AUTOCOMMIT"


async def rows(db: AsyncSession, statement: Statement, params: dict[str, Any]) -> list[list[Any]]:
    """Run `statement` on the session's own connection in one driver call; decoded rows."""
    connection = await db.connection()
    prepared = statement.prepare(connection.dialect)
    values = [
        bind(params[name]) if bind is not None else params[name]
        for name, bind in zip(prepared.names, prepared.binds, strict=True)
    ]
    driver = (await connection.get_raw_connection()).driver_connection
    assert driver is not None
    if connection.dialect.name == "sqlite":
        fetched = await driver.execute_fetchall(prepared.sql, values)
    else:  # asyncpg: numbered parameters, its own prepared-statement cache
        fetched = await driver.fetch(prepared.sql, *values)
    return [
        [result(value) if result is not None else value for value, result in zip(row, prepared.results, strict=True)]
        for row in fetched
    ]
