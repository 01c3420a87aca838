"""An administrator's view of a user's sessions, and ending them: `GET /user/{id}/sessions`,
`DELETE /user/{id}/sessions/{sid}`, `DELETE /user/{id}/sessions` (docs/users.md)."""

from __future__ import annotations

from typing import Any

import httpx

from authgate.services.admin import users as users_admin
from tests.support.app import runtime
from tests.support.audit import logs
from tests.support.http import STRONG_PASSWORD, admin_token, bearer, register

ROOT = "root@example.com"
UNKNOWN = "00000000-0000-0000-0000-000000000000"
FIELDS = {"id", "createdAt", "lastUsedAt", "expiresAt", "ipAddress", "userAgent"}


def assert_problem(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["code"] == code, response.text


async def sign_in(client: httpx.AsyncClient, email: str = "ada@example.com", agent: str = "test") -> dict[str, Any]:
    """A new session of the account: its tokens and its id."""
    response = await client.post(
        "/login", json={"email": email, "password": STRONG_PASSWORD}, headers={"User-Agent": agent}
    )
    assert response.status_code == 200, response.text
    client.cookies.clear()
    body: dict[str, Any] = response.json()
    mine = (await client.get("/sessions", headers=bearer(body["token"]))).json()
    body["sid"] = next(s["id"] for s in mine if s["current"])
    return body


async def an_admin(client: httpx.AsyncClient) -> dict[str, str]:
    headers = bearer(await admin_token(client, ROOT))
    client.cookies.clear()  # the admin's sign-in set its cookies: requests without a token send none
    return headers


async def still_works(client: httpx.AsyncClient, session: dict[str, Any]) -> bool:
    return (await client.get("/user", headers=bearer(session["token"]))).status_code == 200


async def refreshes(client: httpx.AsyncClient, session: dict[str, Any]) -> bool:
    response = await client.post("/refresh", json={"refreshToken": session["refreshToken"]})
    client.cookies.clear()
    if response.status_code == 200:
        session["refreshToken"] = response.json()["refreshToken"]
        return True
    assert_problem(response, 401, "invalid_token")
    return False


async def caller_with(client: httpx.AsyncClient, admin: dict[str, str], email: str, *caps: str) -> dict[str, str]:
    """Headers of a new account whose role carries exactly `caps`."""
    role = email.split("@")[0]
    made = await client.post("/roles", headers=admin, json={"name": role, "caps": list(caps)})
    assert made.status_code == 201, made.text
    await users_admin.create_user(runtime(client), email=email, password=STRONG_PASSWORD, role=role, verified=True)
    return bearer((await sign_in(client, email))["token"])


async def revocations(client: httpx.AsyncClient, admin: dict[str, str], user_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = (await logs(client, admin, userId=user_id, type="session.revoked"))["items"]
    return items


async def test_an_admin_lists_the_live_sessions_newest_first(client: httpx.AsyncClient) -> None:
    ada_id = (await register(client)).json()["user"]["id"]
    client.cookies.clear()
    first = await sign_in(client, agent="first-device")
    second = await sign_in(client, agent="second-device")
    ended = await sign_in(client, agent="gone-device")
    assert (await client.delete(f"/sessions/{ended['sid']}", headers=bearer(second["token"]))).status_code == 204
    admin = await an_admin(client)

    response = await client.get(f"/user/{ada_id}/sessions", headers=admin)
    assert response.status_code == 200, response.text
    listed = response.json()
    assert all(set(entry) == FIELDS for entry in listed)
    ids = [entry["id"] for entry in listed]
    assert ended["sid"] not in ids
    assert ids[:2] == [second["sid"], first["sid"]] and len(ids) == 3  # and the one registering started
    assert [entry["createdAt"] for entry in listed] == sorted((entry["createdAt"] for entry in listed), reverse=True)
    by_id = {entry["id"]: entry for entry in listed}
    assert by_id[first["sid"]]["userAgent"] == "first-device"
    assert by_id[first["sid"]]["ipAddress"] == "203.0.113.7"

    assert_problem(await client.get(f"/user/{UNKNOWN}/sessions", headers=admin), 404, "not_found")
    assert_problem(await client.get(f"/user/{'x' * 300}/sessions", headers=admin), 404, "not_found")
    assert_problem(await client.get(f"/user/{ada_id}/sessions"), 401, "invalid_token")
    # Not an administrator, not even for their own account (GET /sessions is theirs).
    assert_problem(await client.get(f"/user/{ada_id}/sessions", headers=bearer(first["token"])), 403, "forbidden")


async def test_a_reader_lists_but_does_not_end_sessions(client: httpx.AsyncClient) -> None:
    ada_id = (await register(client)).json()["user"]["id"]
    client.cookies.clear()
    ada = await sign_in(client)
    admin = await an_admin(client)
    viewer = await caller_with(client, admin, "viewer@example.com", "users:read")
    assert (await client.get(f"/user/{ada_id}/sessions", headers=viewer)).status_code == 200
    assert_problem(await client.delete(f"/user/{ada_id}/sessions/{ada['sid']}", headers=viewer), 403, "forbidden")
    assert_problem(await client.delete(f"/user/{ada_id}/sessions", headers=viewer), 403, "forbidden")
    assert await still_works(client, ada) and await refreshes(client, ada)


async def test_ending_one_session_refuses_its_tokens_at_once(client: httpx.AsyncClient) -> None:
    ada_id = (await register(client)).json()["user"]["id"]
    client.cookies.clear()
    doomed, kept = await sign_in(client), await sign_in(client)
    assert await still_works(client, doomed)  # cached now: the revocation must drop it
    admin = await an_admin(client)
    admin_id = (await client.get("/user", headers=admin)).json()["id"]

    response = await client.delete(f"/user/{ada_id}/sessions/{doomed['sid']}", headers=admin)
    assert response.status_code == 204, response.text
    assert response.content == b""
    assert not await still_works(client, doomed)
    assert not await refreshes(client, doomed)
    assert await still_works(client, kept) and await refreshes(client, kept)
    assert doomed["sid"] not in [s["id"] for s in (await client.get(f"/user/{ada_id}/sessions", headers=admin)).json()]

    [entry] = await revocations(client, admin, ada_id)
    assert entry["actorId"] == admin_id and entry["userId"] == ada_id
    assert entry["data"] == {"sessions": [doomed["sid"]], "reason": "revoked_by_admin"}

    # Ended already, unknown, someone else's, or under an unknown account: 404, nothing ends.
    bob_id = (await register(client, "bob@example.com")).json()["user"]["id"]
    client.cookies.clear()
    bob = await sign_in(client, "bob@example.com")
    for path in (
        f"/user/{ada_id}/sessions/{doomed['sid']}",
        f"/user/{ada_id}/sessions/{UNKNOWN}",
        f"/user/{ada_id}/sessions/{bob['sid']}",
        f"/user/{UNKNOWN}/sessions/{bob['sid']}",
    ):
        assert_problem(await client.delete(path, headers=admin), 404, "not_found")
    assert await still_works(client, bob) and await still_works(client, kept)
    assert len(await revocations(client, admin, ada_id)) == 1
    assert await revocations(client, admin, bob_id) == []


async def test_ending_every_session_of_a_user(client: httpx.AsyncClient) -> None:
    ada_id = (await register(client)).json()["user"]["id"]
    client.cookies.clear()
    sessions = [await sign_in(client) for _ in range(3)]
    for session in sessions:
        assert await still_works(client, session)
    bob_id = (await register(client, "bob@example.com")).json()["user"]["id"]
    client.cookies.clear()
    bob = await sign_in(client, "bob@example.com")
    admin = await an_admin(client)
    admin_id = (await client.get("/user", headers=admin)).json()["id"]

    response = await client.delete(f"/user/{ada_id}/sessions", headers=admin)
    assert response.status_code == 204, response.text
    for session in sessions:
        assert not await still_works(client, session)
        assert not await refreshes(client, session)
    assert (await client.get(f"/user/{ada_id}/sessions", headers=admin)).json() == []
    assert await still_works(client, bob) and await refreshes(client, bob)
    [entry] = await revocations(client, admin, ada_id)
    assert entry["actorId"] == admin_id
    assert entry["data"]["reason"] == "revoked_by_admin"
    assert set(entry["data"]["sessions"]) >= {s["sid"] for s in sessions}

    # No session left: nothing to end, still 204, no entry. The account signs in again.
    assert (await client.delete(f"/user/{ada_id}/sessions", headers=admin)).status_code == 204
    assert len(await revocations(client, admin, ada_id)) == 1
    assert await still_works(client, await sign_in(client))
    assert_problem(await client.delete(f"/user/{UNKNOWN}/sessions", headers=admin), 404, "not_found")
    assert await revocations(client, admin, bob_id) == []


async def test_no_one_ends_the_sessions_of_someone_above_them(client: httpx.AsyncClient) -> None:
    admin = await an_admin(client)
    admin_session = await sign_in(client, ROOT)
    admin_id = (await client.get("/user", headers=admin)).json()["id"]
    helpdesk = await caller_with(client, admin, "helpdesk@example.com", "users:read", "users:write")

    listed = await client.get(f"/user/{admin_id}/sessions", headers=helpdesk)
    assert listed.status_code == 200  # reading needs users:read alone, as GET /user/{id} does
    for method, path in (
        ("DELETE", f"/user/{admin_id}/sessions/{admin_session['sid']}"),
        ("DELETE", f"/user/{admin_id}/sessions"),
        ("POST", f"/user/{admin_id}/password-reset"),
    ):
        assert_problem(await client.request(method, path, headers=helpdesk), 403, "forbidden")
    assert await still_works(client, admin_session)
    assert await revocations(client, admin, admin_id) == []

    # Someone whose role carries nothing the help desk lacks: allowed.
    ada_id = (await register(client)).json()["user"]["id"]
    client.cookies.clear()
    ada = await sign_in(client)
    assert (await client.delete(f"/user/{ada_id}/sessions/{ada['sid']}", headers=helpdesk)).status_code == 204
    assert not await still_works(client, ada)
