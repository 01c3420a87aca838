"""SQLite's adapter (storage/sqlite_driver.py): one trip to the driver's thread per statement,
and what SQLAlchemy reads of a statement (rows, row counts, RETURNING, errors) as before."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from authgate.storage.db import make_autocommit_engine, make_engine

metadata = MetaData()
things = Table("things", metadata, Column("id", Integer, primary_key=True), Column("name", String, unique=True))


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    made = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}")
    async with made.begin() as connection:
        await connection.run_sync(metadata.create_all)
    yield made
    await made.dispose()


async def trips_of(engine: AsyncEngine, work: Callable[[Any], Awaitable[object]]) -> tuple[int, object]:
    """How many calls `work` hands to aiosqlite's thread, and what it returned (on a connection
    with no BEGIN of its own, so that only the statement counts)."""
    async with make_autocommit_engine(engine).connect() as connection:
        driver = (await connection.get_raw_connection()).driver_connection
        handed = driver._execute
        count = 0

        async def counted(fn: Any, *args: Any, **kwargs: Any) -> Any:
            nonlocal count
            count += 1
            return await handed(fn, *args, **kwargs)

        driver._execute = counted
        try:
            result = await work(connection)
        finally:
            driver._execute = handed
        return count, result


async def test_a_statement_is_one_trip_to_the_drivers_thread(engine: AsyncEngine) -> None:
    async def read(connection: Any) -> object:
        return (await connection.execute(select(things.c.id))).all()

    async def write(connection: Any) -> object:
        return (await connection.execute(insert(things).values(name="a"))).rowcount

    read_trips, rows = await trips_of(engine, read)
    write_trips, count = await trips_of(engine, write)
    assert (read_trips, rows) == (1, [])  # SQLAlchemy's own adapter: cursor, execute, fetch, close
    assert (write_trips, count) == (1, 1)  # and: cursor, execute, close


async def test_rows_counts_and_returning_are_what_sqlalchemy_reads(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        inserted = await connection.execute(insert(things), [{"name": "a"}, {"name": "b"}, {"name": "c"}])
        assert inserted.rowcount == 3  # executemany
        added = await connection.execute(insert(things).values(name="d"))
        assert added.inserted_primary_key == (4,)  # the last row id
        renamed = await connection.execute(
            update(things).where(things.c.id > 2).values(name=things.c.name + "!").returning(things.c.name)
        )
        assert sorted(renamed.scalars()) == ["c!", "d!"]
        untouched = await connection.execute(update(things).where(things.c.id > 9).values(name="z"))
        assert untouched.rowcount == 0
        many = await connection.execute(text("SELECT id, name FROM things ORDER BY id"))
        assert many.keys() == ["id", "name"] and many.fetchone() == (1, "a") and len(many.fetchall()) == 3


async def test_errors_come_as_sqlalchemy_raises_them_and_the_transaction_rolls_back(engine: AsyncEngine) -> None:
    with pytest.raises(IntegrityError):
        async with engine.begin() as connection:
            await connection.execute(insert(things).values(name="a"))
            await connection.execute(insert(things).values(name="a"))
    with pytest.raises(OperationalError):
        async with engine.connect() as connection:
            await connection.execute(text("SELECT nothing FROM nowhere"))
    async with engine.connect() as connection:
        assert (await connection.execute(select(things.c.name))).all() == []
