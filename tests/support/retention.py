"""What the retention tests share: asking for links and codes as anyone may, waiting for the
courier to finish, stopping it (a node whose courier is behind), and reading rows back."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import httpx

from authgate.storage.models import utcnow
from tests.support.app import runtime, sql
from tests.support.server import PATIENCE

LONG_AGO = timedelta(days=30)  # past every default retention age
RECENTLY = timedelta(hours=1)  # within every default retention age


def ago(delta: timedelta) -> datetime:
    return utcnow() - delta


async def ask_for_everything(client: httpx.AsyncClient, email: str) -> None:
    """A password reset, a magic link and a sign-in code for `email`; for an unknown address
    each writes a decoy secret and a suppressed outbox row."""
    for path, body in (
        ("/password/forgot", {"email": email}),
        ("/login/magic", {"email": email}),
        ("/otp/send", {"channel": "email", "email": email}),
    ):
        response = await client.post(path, json=body)
        assert response.status_code == 202, response.text


async def column(client: httpx.AsyncClient, query: str, **params: Any) -> set[Any]:
    """The first column of every row `query` returns."""
    return {row[0] for row in await sql(client, query, **params)}


async def count(client: httpx.AsyncClient, table: str) -> int:
    rows = await sql(client, f"SELECT count(*) FROM {table}")  # noqa: S608 (our own table names)
    return int(rows[0][0])


async def settled(client: httpx.AsyncClient, timeout: float = PATIENCE) -> None:
    """Wait until the courier has fanned out every event and has no outbox row left to send."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        waiting = await sql(
            client,
            "SELECT (SELECT count(*) FROM outbox WHERE status = 'pending')"
            " + (SELECT count(*) FROM events WHERE dispatched_at IS NULL)",
        )
        if waiting[0][0] == 0:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{waiting[0][0]} outbox rows or events still waiting after {timeout}s")
        await asyncio.sleep(0.02)


async def stop_courier(client: httpx.AsyncClient) -> None:
    """From here on, outbox rows stay pending and events undispatched, as on a node whose
    courier has fallen behind."""
    await runtime(client).courier.close()
