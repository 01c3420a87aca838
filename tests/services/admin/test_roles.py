"""Roles carry capabilities: managing them over HTTP, and what a change does to tokens and checks."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import jwt
import pytest

from authgate.errors import AuthError
from authgate.services.admin import users as users_admin
from tests.support.app import ClientFactory, runtime, sql
from tests.support.http import STRONG_PASSWORD, admin_token, assert_needs_capability, bearer, register

ROOT = "root@example.com"


async def login(client: httpx.AsyncClient, email: str) -> str:
    response = await client.post("/login", json={"email": email, "password": STRONG_PASSWORD})
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token


async def create(client: httpx.AsyncClient, token: str, **body: Any) -> httpx.Response:
    return await client.post("/roles", headers=bearer(token), json=body)


def caps_claim(token: str) -> list[str]:
    caps: list[str] = jwt.decode(token, options={"verify_signature": False})["caps"]
    return caps


async def test_the_built_in_roles_are_listed(client: httpx.AsyncClient) -> None:
    token = await admin_token(client)
    response = await client.get("/roles", headers=bearer(token))
    assert response.status_code == 200, response.text
    roles = {r["name"]: r for r in response.json()["items"]}
    assert roles["user"]["caps"] == [] and roles["user"]["builtin"] is True
    assert roles["admin"]["caps"] == ["*"] and roles["admin"]["builtin"] is True
    assert set(roles["admin"]) == {"name", "caps", "description", "builtin", "createdAt", "updatedAt"}


async def test_without_the_capability_every_role_endpoint_is_refused(client: httpx.AsyncClient) -> None:
    token = (await register(client)).json()["token"]
    attempts = [
        ("GET", "/roles", None),
        ("POST", "/roles", {"name": "support", "caps": []}),
        ("PUT", "/roles/user", {"caps": ["users:read"]}),
        ("DELETE", "/roles/user", None),
    ]
    await assert_needs_capability(client, token, attempts)


async def test_a_users_reader_may_list_roles_to_assign_them(client: httpx.AsyncClient) -> None:
    admin = await admin_token(client)
    assert (await create(client, admin, name="support", caps=["users:read"])).status_code == 201
    support = await admin_token(client, "help@example.com", role="support")
    assert (await client.get("/roles", headers=bearer(support))).status_code == 200
    assert (await create(client, support, name="other", caps=[])).status_code == 403


async def test_a_custom_role_reaches_the_token_and_the_user_object(client: httpx.AsyncClient) -> None:
    admin = await admin_token(client)
    created = await create(client, admin, name="support", caps=["users:read", "audit:read"], description="Help desk")
    assert created.status_code == 201, created.text
    assert created.json()["caps"] == ["audit:read", "users:read"] and created.json()["builtin"] is False
    await users_admin.create_user(runtime(client), email="help@example.com", password=STRONG_PASSWORD, role="support")

    signed_in = await client.post("/login", json={"email": "help@example.com", "password": STRONG_PASSWORD})
    body = signed_in.json()
    assert body["user"]["role"] == "support" and body["user"]["caps"] == ["audit:read", "users:read"]
    assert caps_claim(body["token"]) == ["audit:read", "users:read"]


async def test_a_role_change_shows_in_checks_at_once_and_in_the_token_at_the_next_refresh(
    client: httpx.AsyncClient,
) -> None:
    admin = await admin_token(client)
    await create(client, admin, name="support", caps=[])
    await users_admin.create_user(runtime(client), email="help@example.com", password=STRONG_PASSWORD, role="support")
    signed_in = (await client.post("/login", json={"email": "help@example.com", "password": STRONG_PASSWORD})).json()
    token, refresh_token = signed_in["token"], signed_in["refreshToken"]
    victim = (await register(client, "ada@example.com")).json()["user"]["id"]
    assert (await client.post(f"/user/{victim}/unlock", headers=bearer(token))).status_code == 403

    changed = await client.put("/roles/support", headers=bearer(admin), json={"caps": ["users:write"]})
    assert changed.status_code == 200 and changed.json()["caps"] == ["users:write"]
    # authgate's own check reads the role as it is now, with the same access token …
    assert (await client.post(f"/user/{victim}/unlock", headers=bearer(token))).status_code == 200
    assert (await client.get("/user", headers=bearer(token))).json()["caps"] == ["users:write"]
    assert caps_claim(token) == []
    # … and the token's claim follows at the next refresh.
    refreshed = await client.post("/refresh", json={"refreshToken": refresh_token})
    assert refreshed.status_code == 200 and caps_claim(refreshed.json()["accessToken"]) == ["users:write"]


async def test_another_node_sees_a_role_change_within_a_second_or_two(make_client: ClientFactory) -> None:
    async with make_client() as one, make_client() as two:
        admin = await admin_token(one)
        await create(one, admin, name="support", caps=[])
        # node two reads roles every second; wait until it knows this one
        await users_admin.create_user(runtime(two), email="help@example.com", password=STRONG_PASSWORD, role="support")
        token = await login(two, "help@example.com")
        victim = (await register(two, "ada@example.com")).json()["user"]["id"]
        assert (await two.post(f"/user/{victim}/unlock", headers=bearer(token))).status_code == 403

        assert (
            await one.put("/roles/support", headers=bearer(admin), json={"caps": ["users:write"]})
        ).status_code == 200
        changed = time.monotonic()  # the change was made before this
        while True:
            # Node two decides at or after `sent`: a refusal sent 5 s after the change proves it
            # late, however long a loaded machine took to answer.
            sent = time.monotonic()
            if (await two.post(f"/user/{victim}/unlock", headers=bearer(token))).status_code == 200:
                break
            assert sent - changed < 5, "node two never saw the change"
            await asyncio.sleep(0.1)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Support", "caps": []}, "name"),
        ({"name": "help desk", "caps": []}, "name"),
        ({"name": "", "caps": []}, "name"),
        ({"name": "x" * 65, "caps": []}, "name"),
        ({"name": "9lives", "caps": []}, "name"),
        ({"name": "support", "caps": ["Users:Read"]}, "caps"),
        ({"name": "support", "caps": ["users"]}, "caps"),
        ({"name": "support", "caps": ["users:"]}, "caps"),
        ({"name": "support", "caps": ["users:read\u200b"]}, "caps"),
        ({"name": "support", "caps": ["a:" + "b" * 70]}, "caps"),
        ({"name": "support", "caps": [f"app:cap{i}" for i in range(101)]}, "caps"),
        ({"name": "support", "caps": "users:read"}, "caps"),
        ({"name": "support", "caps": [], "description": "x" * 201}, "description"),
        ({"name": "support", "caps": [], "description": "bell\u0007"}, "description"),
    ],
)
async def test_bad_roles_are_refused_by_field(client: httpx.AsyncClient, body: dict[str, Any], field: str) -> None:
    token = await admin_token(client)
    response = await create(client, token, **body)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "validation_failed"
    assert field in {e["field"] for e in response.json()["errors"]}


async def test_a_role_name_is_taken_once(client: httpx.AsyncClient) -> None:
    token = await admin_token(client)
    assert (await create(client, token, name="support", caps=[])).status_code == 201
    again = await create(client, token, name="support", caps=["users:read"])
    assert again.status_code == 409 and again.json()["code"] == "role_exists"
    assert (await create(client, token, name="admin", caps=[])).status_code == 409


async def test_services_may_define_their_own_capabilities(client: httpx.AsyncClient) -> None:
    token = await admin_token(client)
    created = await create(client, token, name="billing", caps=["billing:read", "billing:invoices:write"])
    assert created.status_code == 201 and created.json()["caps"] == ["billing:invoices:write", "billing:read"]


async def test_the_built_in_roles_stay(client: httpx.AsyncClient) -> None:
    token = await admin_token(client)
    for name in ("admin", "user"):
        refused = await client.delete(f"/roles/{name}", headers=bearer(token))
        assert refused.status_code == 403, refused.text
    stripped = await client.put("/roles/admin", headers=bearer(token), json={"caps": ["users:read"]})
    assert stripped.status_code == 403
    described = await client.put("/roles/admin", headers=bearer(token), json={"description": "Operators"})
    assert described.status_code == 200 and described.json()["caps"] == ["*"]
    widened = await client.put("/roles/user", headers=bearer(token), json={"caps": ["app:use"]})
    assert widened.status_code == 200
    assert (await register(client)).json()["user"]["caps"] == ["app:use"]


async def test_a_role_in_use_cannot_be_deleted(client: httpx.AsyncClient) -> None:
    token = await admin_token(client)
    await create(client, token, name="support", caps=["users:read"])
    held = await users_admin.create_user(
        runtime(client), email="help@example.com", password=STRONG_PASSWORD, role="support"
    )
    refused = await client.delete("/roles/support", headers=bearer(token))
    assert refused.status_code == 409 and refused.json()["code"] == "role_in_use"

    await sql(client, "UPDATE users SET role = 'user' WHERE id = :id", id=held.id)
    assert (await client.delete("/roles/support", headers=bearer(token))).status_code == 204
    assert (await client.delete("/roles/support", headers=bearer(token))).status_code == 404
    assert (await client.put("/roles/support", headers=bearer(token), json={"caps": []})).status_code == 404
    listed = (await client.get("/roles", headers=bearer(token))).json()["items"]
    assert "support" not in {r["name"] for r in listed}


async def test_a_role_manager_cannot_hand_out_what_they_do_not_hold(client: httpx.AsyncClient) -> None:
    """Privilege escalation through roles: `roles:manage` alone must not lead to `*`."""
    admin = await admin_token(client)
    await create(client, admin, name="role-manager", caps=["roles:manage"])
    await create(client, admin, name="support", caps=["users:write"])
    manager = await admin_token(client, "manager@example.com", role="role-manager")

    assert (await create(client, manager, name="everything", caps=["*"])).status_code == 403
    assert (await create(client, manager, name="writers", caps=["users:write"])).status_code == 403
    assert (await create(client, manager, name="managers", caps=["roles:manage"])).status_code == 201
    own = await client.put(
        "/roles/role-manager", headers=bearer(manager), json={"caps": ["roles:manage", "audit:read"]}
    )
    assert own.status_code == 403
    assert (await client.put("/roles/support", headers=bearer(manager), json={"caps": []})).status_code == 403
    assert (await client.delete("/roles/support", headers=bearer(manager))).status_code == 403
    assert (await client.put("/roles/admin", headers=bearer(manager), json={"description": "x"})).status_code == 403
    assert (await client.put("/roles/user", headers=bearer(manager), json={"caps": ["users:read"]})).status_code == 403


async def test_role_changes_are_audited_with_the_actor(client: httpx.AsyncClient) -> None:
    token = await admin_token(client)
    admin_id = (await client.get("/user", headers=bearer(token))).json()["id"]
    await create(client, token, name="support", caps=["users:read"])
    await client.put("/roles/support", headers=bearer(token), json={"caps": ["users:read", "audit:read"]})
    await client.delete("/roles/support", headers=bearer(token))
    rows = await sql(
        client, "SELECT type, actor_id, ip_address, data FROM audit_log WHERE type LIKE 'role.%' ORDER BY seq"
    )
    assert [row[0] for row in rows] == ["role.created", "role.updated", "role.deleted"]
    assert all(row[1] == admin_id and row[2] == "203.0.113.7" for row in rows)
    assert '"before":["users:read"]' in rows[1][3] and '"after":["audit:read","users:read"]' in rows[1][3]


async def test_deleting_a_role_while_it_is_given_leaves_no_one_holding_a_missing_role(
    client: httpx.AsyncClient,
) -> None:
    token = await admin_token(client)
    for round_ in range(8):
        name = f"temp{round_}"
        assert (await create(client, token, name=name, caps=["users:read"])).status_code == 201

        async def give(email: str = f"t{round_}@example.com", role: str = name) -> str:
            try:
                await users_admin.create_user(runtime(client), email=email, password=STRONG_PASSWORD, role=role)
            except AuthError as exc:
                return exc.code.value
            return "created"

        deleted, given = await asyncio.gather(client.delete(f"/roles/{name}", headers=bearer(token)), give())
        assert (deleted.status_code, given) in {(409, "created"), (204, "validation_failed")}, (deleted.text, given)
    dangling = await sql(client, "SELECT COUNT(*) FROM users WHERE role NOT IN (SELECT name FROM roles)")
    assert dangling[0][0] == 0


async def test_a_role_missing_from_the_database_grants_nothing(client: httpx.AsyncClient) -> None:
    """Fail closed: a user left naming a role that is gone (edited in the database) holds no capability."""
    user_id = (await register(client)).json()["user"]["id"]
    await sql(
        client,
        "INSERT INTO roles (name, caps, created_at, updated_at) VALUES ('ghost', :caps, :t, :t)",
        caps='["*"]',
        t=datetime.now(UTC),
    )
    await sql(client, "UPDATE users SET role = 'ghost' WHERE id = :id", id=user_id)
    await sql(client, "DELETE FROM roles WHERE name = 'ghost'")
    await runtime(client).roles.load()
    token = await login(client, "ada@example.com")
    assert caps_claim(token) == []
    assert (await client.get("/roles", headers=bearer(token))).status_code == 403
