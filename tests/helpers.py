"""Small helpers the API tests share."""

from __future__ import annotations

from typing import Any

import httpx

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
