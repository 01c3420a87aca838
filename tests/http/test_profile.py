"""GET /profile, GET /user and PUT /user (the `/api/v1/auth` JWT API's profile; own-account edits)."""

from __future__ import annotations

import asyncio

import httpx

from tests.support.app import runtime
from tests.support.http import STRONG_PASSWORD, bearer, register

NEW_PASSWORD = "Brand-New-Pass-7"


async def test_profile_matches_the_jwt_api_shape(client: httpx.AsyncClient) -> None:
    token = (await register(client, "user@example.com", prefix="/api/v1/auth")).json()["token"]
    response = await client.get("/api/v1/auth/profile", headers=bearer(token))
    assert response.status_code == 200
    body = response.json()
    assert body["email"] == "user@example.com"
    assert {"id", "email", "created_at"} <= set(body)


async def test_get_user_is_the_user_object_with_its_ways_in(client: httpx.AsyncClient) -> None:
    reg = (await register(client, "me@example.com", name="Me")).json()
    response = await client.get("/user", headers=bearer(reg["token"]))
    assert response.status_code == 200
    body = response.json()
    assert {k: v for k, v in body.items() if k not in {"hasPassword", "identities"}} == reg["user"]
    assert body["hasPassword"] is True
    assert body["identities"] == []


async def test_an_account_registered_without_a_password_has_none(client: httpx.AsyncClient) -> None:
    """No password given: none is recorded, so the account says so (and no guess could match)."""
    reg = await client.post("/register", json={"email": "nopass@example.com"})
    assert reg.status_code == 201, reg.text
    body = (await client.get("/user", headers=bearer(reg.json()["token"]))).json()
    assert body["hasPassword"] is False
    login = await client.post("/login", json={"email": "nopass@example.com", "password": ""})
    assert login.status_code in {400, 401}


async def test_put_user_updates_profile_fields(client: httpx.AsyncClient) -> None:
    token = (await register(client, "edit@example.com")).json()["token"]
    response = await client.put(
        "/user", headers=bearer(token), json={"name": "New Name", "username": "newname", "phone": "+14155550100"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["name"], body["username"], body["phone"]) == ("New Name", "newname", "+14155550100")
    assert (await client.get("/user", headers=bearer(token))).json()["name"] == "New Name"
    cleared = await client.put("/user", headers=bearer(token), json={"username": ""})
    assert cleared.json()["username"] is None


async def test_put_user_refuses_a_role_change_and_bad_fields(client: httpx.AsyncClient) -> None:
    """Privilege escalation through the self-service body: refused, and nothing changes."""
    token = (await register(client, "edit@example.com")).json()["token"]
    for sneaky in ({"role": "admin"}, {"emailVerified": True}, {"name": "Eve", "role": "admin"}):
        refused = await client.put("/user", headers=bearer(token), json=sneaky)
        assert refused.status_code == 403 and refused.json()["code"] == "forbidden", sneaky
    user = (await client.get("/user", headers=bearer(token))).json()
    assert user["role"] == "user" and user["emailVerified"] is False and user["name"] is None
    # The object as read may be sent back: equal values and read-only fields pass.
    echoed = await client.put("/user", headers=bearer(token), json={**user, "caps": ["*"], "name": "Ada"})
    assert echoed.status_code == 200, echoed.text
    assert echoed.json()["caps"] == [] and echoed.json()["name"] == "Ada"
    bad = await client.put("/user", headers=bearer(token), json={"name": "x" * 101, "phone": "nope"})
    assert bad.status_code == 400
    assert {e["field"] for e in bad.json()["errors"]} == {"name", "phone"}


async def test_put_user_username_conflict_is_409(client: httpx.AsyncClient) -> None:
    await register(client, "a@example.com", username="taken")
    token = (await register(client, "b@example.com")).json()["token"]
    response = await client.put("/user", headers=bearer(token), json={"username": "TAKEN"})
    assert response.status_code == 409
    assert response.json()["code"] == "username_taken"


async def test_password_change_needs_the_current_password(client: httpx.AsyncClient) -> None:
    token = (await register(client, "pw@example.com")).json()["token"]
    missing = await client.put("/user", headers=bearer(token), json={"password": NEW_PASSWORD})
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["field"] == "currentPassword"
    wrong = await client.put(
        "/user", headers=bearer(token), json={"password": NEW_PASSWORD, "currentPassword": "Not-It-123"}
    )
    assert (wrong.status_code, wrong.json()["code"]) == (401, "invalid_credentials")
    weak = await client.put(
        "/user", headers=bearer(token), json={"password": "weak", "currentPassword": STRONG_PASSWORD}
    )
    assert weak.status_code == 400
    still_old = await client.post("/login", json={"email": "pw@example.com", "password": STRONG_PASSWORD})
    assert still_old.status_code == 200


async def test_password_change_revokes_the_other_sessions(client: httpx.AsyncClient) -> None:
    current = (await register(client, "pw@example.com")).json()["token"]
    other = (await client.post("/login", json={"email": "pw@example.com", "password": STRONG_PASSWORD})).json()["token"]
    assert (await client.get("/profile", headers=bearer(other))).status_code == 200
    changed = await client.put(
        "/user", headers=bearer(current), json={"password": NEW_PASSWORD, "currentPassword": STRONG_PASSWORD}
    )
    assert changed.status_code == 200
    assert (await client.get("/profile", headers=bearer(other))).status_code == 401
    assert (await client.get("/profile", headers=bearer(current))).status_code == 200
    old = await client.post("/login", json={"email": "pw@example.com", "password": STRONG_PASSWORD})
    assert old.status_code == 401
    new = await client.post("/login", json={"email": "pw@example.com", "password": NEW_PASSWORD})
    assert new.status_code == 200


async def test_concurrent_profile_reads_are_consistent(client: httpx.AsyncClient) -> None:
    token = (await register(client, "many@example.com")).json()["token"]
    responses = await asyncio.gather(*(client.get("/profile", headers=bearer(token)) for _ in range(50)))
    assert {r.status_code for r in responses} == {200}


async def test_profile_shows_every_change_at_once(client: httpx.AsyncClient) -> None:
    """The profile's bytes are made once per cached account object (http/responses.user_body)
    and made again as soon as anything they show changes: through the API, or on the object."""
    token = (await register(client, "fresh@example.com")).json()["token"]
    first = (await client.get("/profile", headers=bearer(token))).json()
    assert (await client.get("/profile", headers=bearer(token))).json() == first
    await client.put("/user", headers=bearer(token), json={"name": "Renamed"})
    assert (await client.get("/profile", headers=bearer(token))).json()["name"] == "Renamed"
    sid = runtime(client).codec.decode_known(token, purpose="access")["sid"]
    cached = runtime(client).principals.get(sid)
    assert cached is not None
    cached[1].name = "Changed in place"
    assert (await client.get("/profile", headers=bearer(token))).json()["name"] == "Changed in place"
