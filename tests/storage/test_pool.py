"""More requests at once than the pool holds connections wait for one of the pool's: none is
opened beyond it. Under steady load above the pool's size, extra connections would be opened
and closed again all the time, and opening one (on PostgreSQL a server process, a TLS offer,
authentication) costs far more than the wait."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import event

from tests.support.app import ClientFactory, runtime
from tests.support.http import login, register

POOL_SIZE = 2
AT_ONCE = 24


async def test_a_burst_beyond_the_pool_opens_no_connection(make_client: ClientFactory) -> None:
    async with make_client(database_pool_size=POOL_SIZE) as client:
        await register(client)
        refresh_tokens = [(await login(client)).json()["refreshToken"] for _ in range(AT_ONCE)]
        engine = runtime(client).engine.sync_engine
        opened: list[Any] = []
        event.listen(engine, "connect", lambda connection, record: opened.append(connection))
        open_before = engine.pool.size() + engine.pool.overflow()  # type: ignore[attr-defined]
        answers = await asyncio.gather(
            *(client.post("/refresh", json={"refreshToken": token}) for token in refresh_tokens),
            *(login(client) for _ in range(AT_ONCE)),
        )
        assert [answer.status_code for answer in answers] == [200] * (2 * AT_ONCE)
        assert open_before + len(opened) <= POOL_SIZE, f"{len(opened)} connections opened beyond {open_before}"
