"""The app under test: the secret its settings use, the shape of the `make_client` factory,
and a look behind the API at its runtime and database."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.sql.expression import Executable

from authgate.runtime.root import Runtime

TEST_SECRET = "test-secret-that-is-long-enough-0123456789"
CLIENT_IP = "203.0.113.7"  # the address the `make_client` apps see every request come from

ClientFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


def runtime(client: httpx.AsyncClient) -> Runtime:
    """The app's runtime, for the few tests that look at the database behind the API."""
    rt: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    return rt


async def sql(client: httpx.AsyncClient, statement: str | Executable, **params: Any) -> list[Any]:
    """Run SQL on the app's own database (to age a row, disable an account, or count rows a
    race produced)."""
    async with runtime(client).engine.begin() as conn:
        result = await conn.execute(text(statement) if isinstance(statement, str) else statement, params)
        return list(result.fetchall()) if result.returns_rows else []
