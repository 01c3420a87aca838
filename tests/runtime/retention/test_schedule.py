"""The server purges by itself every AUTHGATE_RETENTION_INTERVAL_SECONDS, and never when it
is 0. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import update

from authgate.storage.models import OneTimeSecret, OutboxMessage
from tests.support.app import ClientFactory, runtime, sql
from tests.support.retention import LONG_AGO, ago, count, settled
from tests.support.server import PATIENCE


async def expired_decoys(client: httpx.AsyncClient, n: int) -> None:
    """`n` forgotten-password requests for unknown addresses, their rows aged past retention."""
    for i in range(n):
        response = await client.post("/password/forgot", json={"email": f"stranger{i}@example.com"})
        assert response.status_code == 202
    await settled(client)
    await sql(client, update(OneTimeSecret).values(expires_at=ago(LONG_AGO)))
    await sql(client, update(OutboxMessage).values(created_at=ago(LONG_AGO)))


async def rows_left(client: httpx.AsyncClient) -> int:
    return await count(client, "one_time_secrets") + await count(client, "outbox")


async def test_the_server_purges_by_itself(make_client: ClientFactory) -> None:
    async with make_client(retention_interval_seconds=1) as client:
        await expired_decoys(client, 5)
        deadline = asyncio.get_running_loop().time() + PATIENCE
        while await rows_left(client) != 0:
            assert asyncio.get_running_loop().time() < deadline, f"not purged within {PATIENCE:g} s at a 1 s interval"
            await asyncio.sleep(0.05)


async def test_an_interval_of_zero_never_purges(make_client: ClientFactory) -> None:
    async with make_client(retention_interval_seconds=0) as client:
        assert runtime(client).purging is None
        await expired_decoys(client, 5)
        await asyncio.sleep(2.5)
        assert await rows_left(client) == 10
