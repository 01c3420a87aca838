"""Small helpers the API tests share."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.sql.expression import Executable

from authgate.runtime.root import Runtime
from authgate.services.admin import users as users_admin

STRONG_PASSWORD = "Sturdy-Horse-42"


async def register(
    client: httpx.AsyncClient,
    email: str = "ada@example.com",
    password: str = STRONG_PASSWORD,
    prefix: str = "/api/auth",
    **extra: Any,
) -> httpx.Response:
    response = await client.post(f"{prefix}/register", json={"email": email, "password": password, **extra})
    assert response.status_code == 201, response.text
    return response


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


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


async def admin_token(client: httpx.AsyncClient, email: str = "root@example.com", role: str = "admin") -> str:
    """An access token of a new, verified account holding `role` (made as the CLI makes one)."""
    await users_admin.create_user(runtime(client), email=email, password=STRONG_PASSWORD, role=role, verified=True)
    response = await client.post("/login", json={"email": email, "password": STRONG_PASSWORD})
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token
