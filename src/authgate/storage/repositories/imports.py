"""Writing imported accounts in batches, and finding which of a batch's keys are taken.

A batch is checked with one query per kind of key and written with one flush per table, so
that an import of 100,000 rows costs a few statements per few hundred rows. A key taken
between the check and the write (another import, a registration) spoils the batch: the
caller lets it roll back and writes its rows one by one."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import insert, select, text, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from authgate.storage.models import LinkedIdentity, TotpCredential, User
from authgate.storage.models.base import table_of
from authgate.storage.repositories.users import DuplicateUser, taken_key

CHUNK = 500  # keys per IN (...): within SQLite's and asyncpg's limits on bound parameters


def _chunks(values: Sequence[object]) -> Iterable[Sequence[object]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


@asynccontextmanager
async def planned_each_time(session: AsyncSession) -> AsyncIterator[None]:
    """PostgreSQL plans the lookups below for their values every time. A prepared statement
    otherwise settles on one generic plan after five runs: planned against the empty table an
    import starts from, it reads the whole table, and as the table grows to 100,000 accounts
    every batch's lookup slows with it (5,000 rows/s fell to 900; autovacuum's statistics, if it
    runs, come too late). Set on the session's connection, and put back before it goes."""
    if session.get_bind().dialect.name != "postgresql":
        yield
        return
    await session.execute(text("SET plan_cache_mode = force_custom_plan"))
    try:
        yield
    finally:
        await session.execute(text("RESET plan_cache_mode"))


async def taken_keys(
    session: AsyncSession, *, email_keys: list[str], username_keys: list[str], ids: list[str]
) -> tuple[set[str], set[str], set[str]]:
    """Which of these email keys, username keys and user ids accounts have already."""
    found: tuple[set[str], set[str], set[str]] = (set(), set(), set())
    for column, wanted, into in (
        (User.email_key, email_keys, found[0]),
        (User.username_key, username_keys, found[1]),
        (User.id, ids, found[2]),
    ):
        for chunk in _chunks(wanted):
            into.update(v for v in (await session.execute(select(column).where(column.in_(chunk)))).scalars() if v)
    return found


async def taken_identities(session: AsyncSession, *, pairs: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which of these (provider, subject) pairs are linked to an account already."""
    found: set[tuple[str, str]] = set()
    key = tuple_(LinkedIdentity.provider, LinkedIdentity.subject)
    for chunk in _chunks(pairs):
        rows = await session.execute(select(LinkedIdentity.provider, LinkedIdentity.subject).where(key.in_(chunk)))
        found.update((provider, subject) for provider, subject in rows)
    return found


async def add_accounts(
    session: AsyncSession,
    *,
    users: list[dict[str, Any]],
    factors: list[dict[str, Any]],
    identities: list[dict[str, Any]],
) -> None:
    """Insert the accounts (each a dict of every column of `users`), then what belongs to them
    (their foreign keys need the accounts first): one multi-row INSERT per table, without the
    ORM's per-object bookkeeping (none of these rows is read back in the transaction).
    `DuplicateUser` if a unique key was taken meanwhile (the transaction is then spoilt)."""
    try:
        for model, rows in ((User, users), (TotpCredential, factors), (LinkedIdentity, identities)):
            if rows:
                await session.execute(insert(table_of(model)), rows)
    except IntegrityError as exc:
        raise DuplicateUser(taken_key(exc)) from None
