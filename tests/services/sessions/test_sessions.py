"""`GET /sessions`, `DELETE /sessions/{id}`, `DELETE /sessions`, and password changes."""

from __future__ import annotations

import httpx

from tests.support.http import STRONG_PASSWORD, bearer, login, register


async def _two_sessions(client: httpx.AsyncClient) -> tuple[dict[str, str], dict[str, str]]:
    await register(client)
    first = (await login(client)).json()
    second = await client.post(
        "/login",
        json={"email": "ada@example.com", "password": STRONG_PASSWORD, "options": {"setCookie": False}},
        headers={"User-Agent": "phone-app/1.0"},
    )
    return first, second.json()


async def _current_sid(client: httpx.AsyncClient, body: dict[str, str]) -> str:
    items = (await client.get("/sessions", headers=bearer(body["accessToken"]))).json()
    return str(next(s["id"] for s in items if s["current"]))


async def test_list_sessions_shows_the_callers_live_sessions(client: httpx.AsyncClient) -> None:
    _first, second = await _two_sessions(client)
    await register(client, email="eve@example.com")  # someone else's session is not listed
    response = await client.get("/sessions", headers=bearer(second["accessToken"]))
    assert response.status_code == 200
    items = response.json()
    assert len(items) == 3  # register, first login, second login
    assert set(items[0]) == {"id", "createdAt", "lastUsedAt", "expiresAt", "ipAddress", "userAgent", "current"}
    current = [s for s in items if s["current"]]
    assert len(current) == 1
    assert current[0]["userAgent"] == "phone-app/1.0"
    assert current[0]["ipAddress"] == "203.0.113.7"
    assert current[0]["createdAt"].endswith("Z") and current[0]["expiresAt"] > current[0]["createdAt"]


async def test_delete_own_session_by_id_ends_it_at_once(client: httpx.AsyncClient) -> None:
    first, second = await _two_sessions(client)
    first_sid = await _current_sid(client, first)
    # The second device ends the first one's session.
    response = await client.delete(f"/sessions/{first_sid}", headers=bearer(second["accessToken"]))
    assert response.status_code == 204
    assert response.content == b""
    assert (await client.get("/profile", headers=bearer(first["accessToken"]))).status_code == 401
    assert (await client.post("/refresh", json={"refreshToken": first["refreshToken"]})).status_code == 401
    assert (await client.get("/profile", headers=bearer(second["accessToken"]))).status_code == 200
    # Already revoked: 404 now.
    assert (await client.delete(f"/sessions/{first_sid}", headers=bearer(second["accessToken"]))).status_code == 404


async def test_another_users_session_is_404_and_stays_alive(client: httpx.AsyncClient) -> None:
    await register(client)
    ada = (await login(client)).json()
    await register(client, email="eve@example.com")
    eve = (await login(client, email="eve@example.com")).json()
    ada_sid = await _current_sid(client, ada)
    response = await client.delete(f"/sessions/{ada_sid}", headers=bearer(eve["accessToken"]))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert (await client.get("/profile", headers=bearer(ada["accessToken"]))).status_code == 200
    unknown = await client.delete("/sessions/00000000-0000-0000-0000-000000000000", headers=bearer(eve["accessToken"]))
    assert unknown.status_code == 404


async def test_delete_all_sessions_keeps_only_the_current_one(client: httpx.AsyncClient) -> None:
    first, second = await _two_sessions(client)
    response = await client.delete("/sessions", headers=bearer(second["accessToken"]))
    assert response.status_code == 200
    assert response.json()["revoked"] == 2
    assert (await client.get("/profile", headers=bearer(first["accessToken"]))).status_code == 401
    assert (await client.post("/refresh", json={"refreshToken": first["refreshToken"]})).status_code == 401
    assert (await client.get("/profile", headers=bearer(second["accessToken"]))).status_code == 200
    items = (await client.get("/sessions", headers=bearer(second["accessToken"]))).json()
    assert [s["current"] for s in items] == [True]


async def test_sessions_need_authentication(client: httpx.AsyncClient) -> None:
    for method, path in (("GET", "/sessions"), ("DELETE", "/sessions"), ("DELETE", "/sessions/x")):
        response = await client.request(method, path)
        assert response.status_code == 401
        assert response.json()["code"] == "invalid_token"


async def test_a_password_change_revokes_the_other_sessions(client: httpx.AsyncClient) -> None:
    first, second = await _two_sessions(client)
    response = await client.put(
        "/user",
        json={"password": "Brand-New-Pass-7", "currentPassword": STRONG_PASSWORD},
        headers=bearer(second["accessToken"]),
    )
    assert response.status_code == 200, response.text
    assert (await client.get("/profile", headers=bearer(first["accessToken"]))).status_code == 401
    assert (await client.post("/refresh", json={"refreshToken": first["refreshToken"]})).status_code == 401
    assert (await client.get("/profile", headers=bearer(second["accessToken"]))).status_code == 200
    assert (await client.post("/refresh", json={"refreshToken": second["refreshToken"]})).status_code == 200
