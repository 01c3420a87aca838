from __future__ import annotations

import httpx

from tests.support.http import STRONG_PASSWORD, bearer, register


async def test_register_login_profile(client: httpx.AsyncClient) -> None:
    reg = await register(client, name="Ada")
    body = reg.json()
    assert body["token"] == body["accessToken"]
    login = await client.post("/api/auth/login", json={"email": "ada@example.com", "password": STRONG_PASSWORD})
    assert login.status_code == 200, login.text
    prof = await client.get("/api/v1/auth/profile", headers=bearer(login.json()["token"]))
    assert prof.status_code == 200
    assert prof.json()["email"] == "ada@example.com"
