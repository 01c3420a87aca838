"""The sign-in core's tests use the real mail sink and SMS receiver of the messaging tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from sqlalchemy import text

from tests.helpers import runtime, sql
from tests.messaging.conftest import mailbox, mclient, messaging_client, sms

__all__ = ["fault", "mailbox", "mclient", "messaging_client", "runtime", "sms", "sql", "tolerant"]


@asynccontextmanager
async def tolerant(client: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the same running app that gets a 500 as a response, as a real client
    would, instead of the exception the test transport re-raises by default."""
    transport = httpx.ASGITransport(app=client.app, raise_app_exceptions=False)  # type: ignore[attr-defined]
    async with httpx.AsyncClient(transport=transport, base_url=str(client.base_url)) as other:
        yield other


@asynccontextmanager
async def fault(client: httpx.AsyncClient, *, table: str, when: str) -> AsyncIterator[None]:
    """A real database fault: a trigger that aborts `when` (e.g. "UPDATE OF revoked_at") on
    `table`, so a use case fails half-way through without any of our code being replaced."""
    rt = runtime(client)
    if rt.engine.dialect.name == "sqlite":
        create = [f"CREATE TRIGGER injected_fault BEFORE {when} ON {table} BEGIN SELECT RAISE(ABORT, 'injected'); END"]
        drop = ["DROP TRIGGER injected_fault"]
    else:
        create = [
            "CREATE FUNCTION injected_fault() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'injected'; END $$ "
            "LANGUAGE plpgsql",
            f"CREATE TRIGGER injected_fault BEFORE {when} ON {table} FOR EACH ROW EXECUTE FUNCTION injected_fault()",
        ]
        drop = [f"DROP TRIGGER injected_fault ON {table}", "DROP FUNCTION injected_fault()"]
    async with rt.db.begin() as db:
        for statement in create:
            await db.execute(text(statement))
    try:
        yield
    finally:
        async with rt.db.begin() as db:
            for statement in drop:
                await db.execute(text(statement))
