"""Administering users over HTTP: who may read, change, disable, delete and reset whom."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from authgate.services.admin import users as users_admin
from tests.support.app import ClientFactory, runtime, sql
from tests.support.http import STRONG_PASSWORD, bearer, register
from tests.support.mfa import enrol, mfa_token

ROOT = "root@example.com"


async def signed_in(client: httpx.AsyncClient, email: str, role: str = "user") -> dict[str, str]:
    """Headers of a new account with `role`, signed in."""
    await users_admin.create_user(runtime(client), email=email, password=STRONG_PASSWORD, role=role, verified=True)
    response = await client.post("/login", json={"email": email, "password": STRONG_PASSWORD})
    assert response.status_code == 200, response.text
    return bearer(response.json()["token"])


async def role(client: httpx.AsyncClient, admin: dict[str, str], name: str, *caps: str) -> None:
    response = await client.post("/roles", headers=admin, json={"name": name, "caps": list(caps)})
    assert response.status_code == 201, response.text


async def user_id(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    found: str = (await client.get("/user", headers=headers)).json()["id"]
    return found


def assert_problem(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["code"] == code, response.text


async def test_there_is_no_default_admin(client: httpx.AsyncClient) -> None:
    assert (await sql(client, "SELECT COUNT(*) FROM users"))[0][0] == 0
    assert_problem(await client.get("/users"), 401, "invalid_token")
    assert_problem(await client.post("/user", json={"email": "x@example.com"}), 401, "invalid_token")


async def test_listing_users_needs_users_read_and_filters(client: httpx.AsyncClient) -> None:
    plain = bearer((await register(client, "Ada.Lovelace@Example.com")).json()["token"])
    await register(client, "bob@example.com")
    await register(client, "ada_b@example.com")
    admin = await signed_in(client, ROOT, "admin")
    assert_problem(await client.get("/users", headers=plain), 403, "forbidden")

    everyone = (await client.get("/users", headers=admin)).json()
    assert [u["email"] for u in everyone["items"]] == [
        "Ada.Lovelace@example.com", "bob@example.com", "ada_b@example.com", ROOT
    ]  # fmt: skip
    assert everyone["nextCursor"] is None and everyone["items"][0]["disabled"] is False

    async def emails(**params: Any) -> list[str]:
        response = await client.get("/users", headers=admin, params=params)
        assert response.status_code == 200, response.text
        return [u["email"] for u in response.json()["items"]]

    assert await emails(email="ADA") == ["Ada.Lovelace@example.com", "ada_b@example.com"]
    assert await emails(email="a_b") == ["ada_b@example.com"]  # "_" is a letter here, not a wildcard
    assert await emails(email="%") == []
    assert await emails(role="admin") == [ROOT]
    assert await emails(disabled="true") == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "500"}, "limit"),
        ({"disabled": "maybe"}, "disabled"),
        ({"cursor": "junk"}, "cursor"),
        ({"cursor": "WzEsMl0"}, "cursor"),  # [1,2]: not a (time, id) key
        ({"cursor": "WyJub3QgYSB0aW1lIiwiaWQiXQ"}, "cursor"),  # ["not a time","id"]
        ({"email": "ada\u0000"}, "email"),
    ],
)
async def test_bad_list_parameters_are_400(client: httpx.AsyncClient, params: dict[str, str], field: str) -> None:
    response = await client.get("/users", headers=await signed_in(client, ROOT, "admin"), params=params)
    assert response.status_code == 400, response.text
    assert field in {e["field"] for e in response.json()["errors"]}


async def test_pages_hold_still_while_people_register(client: httpx.AsyncClient) -> None:
    admin = await signed_in(client, ROOT, "admin")
    for n in range(10):
        await register(client, f"early{n}@example.com")
    before = {u["id"] for u in (await client.get("/users", headers=admin, params={"limit": 200})).json()["items"]}

    async def arrivals() -> None:
        for n in range(10):
            await asyncio.gather(register(client, f"late{n}a@example.com"), register(client, f"late{n}b@example.com"))

    async def page_through() -> list[str]:
        seen: list[str] = []
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            page = (await client.get("/users", headers=admin, params=params)).json()
            seen += [u["id"] for u in page["items"]]
            cursor = page["nextCursor"]
            if cursor is None:
                return seen

    seen, _ = await asyncio.gather(page_through(), arrivals())
    assert len(seen) == len(set(seen)), "a user was listed twice"
    assert before <= set(seen), "a user was skipped"


async def test_reading_one_user(client: httpx.AsyncClient) -> None:
    ada = (await register(client, "ada@example.com")).json()
    bob = (await register(client, "bob@example.com")).json()
    mine = await client.get(f"/user/{ada['user']['id']}", headers=bearer(ada["token"]))
    assert mine.status_code == 200 and mine.json()["email"] == "ada@example.com"
    assert_problem(await client.get(f"/user/{bob['user']['id']}", headers=bearer(ada["token"])), 403, "forbidden")
    admin = await signed_in(client, ROOT, "admin")
    assert (await client.get(f"/user/{bob['user']['id']}", headers=admin)).json()["disabled"] is False
    for missing in ("00000000-0000-0000-0000-000000000000", "not-an-id", "x" * 300):
        assert_problem(await client.get(f"/user/{missing}", headers=admin), 404, "not_found")


async def test_a_reader_may_read_and_nothing_more(client: httpx.AsyncClient) -> None:
    admin = await signed_in(client, ROOT, "admin")
    await role(client, admin, "viewer", "users:read")
    viewer = await signed_in(client, "viewer@example.com", "viewer")
    target = (await register(client, "ada@example.com")).json()["user"]["id"]
    assert (await client.get("/users", headers=viewer)).status_code == 200
    assert (await client.get(f"/user/{target}", headers=viewer)).status_code == 200
    attempts = [
        ("POST", "/user", {"email": "new@example.com", "password": STRONG_PASSWORD}),
        ("PUT", f"/user/{target}", {"name": "Changed"}),
        ("PUT", f"/user/{target}", {"disabled": True}),
        ("DELETE", f"/user/{target}", None),
        ("DELETE", f"/user/{target}/mfa", None),
        ("POST", f"/user/{target}/unlock", None),
    ]
    for method, path, body in attempts:
        assert_problem(await client.request(method, path, headers=viewer, json=body), 403, "forbidden")
    assert (await client.get(f"/user/{target}", headers=admin)).json()["name"] is None


async def test_an_admin_creates_a_user(client: httpx.AsyncClient) -> None:
    admin = await signed_in(client, ROOT, "admin")
    await role(client, admin, "support", "users:read")
    body = {
        "email": "Help@Example.com",
        "password": STRONG_PASSWORD,
        "name": "Help Desk",
        "username": "help",
        "role": "support",
        "emailVerified": True,
    }
    created = await client.post("/user", headers=admin, json=body)
    assert created.status_code == 201, created.text
    user = created.json()
    assert (user["email"], user["role"], user["caps"], user["emailVerified"]) == (
        "Help@example.com", "support", ["users:read"], True
    )  # fmt: skip
    assert user["disabled"] is False and 'password"' not in created.text and "$2b$" not in created.text
    assert (await client.post("/login", json={"username": "help", "password": STRONG_PASSWORD})).status_code == 200
    assert_problem(await client.post("/user", headers=admin, json=body), 409, "email_taken")
    unknown = await client.post("/user", headers=admin, json={"email": "u@example.com", "role": "root"})
    assert_problem(unknown, 400, "validation_failed")
    weak = await client.post("/user", headers=admin, json={"email": "w@example.com", "password": "weak"})
    assert {e["field"] for e in weak.json()["errors"]} == {"password"}

    off = await client.post(
        "/user", headers=admin, json={"email": "off@example.com", "password": STRONG_PASSWORD, "disabled": True}
    )
    assert off.status_code == 201 and off.json()["disabled"] is True
    refused = await client.post("/login", json={"email": "off@example.com", "password": STRONG_PASSWORD})
    assert_problem(refused, 403, "account_disabled")
    actors = await sql(
        client, "SELECT actor_id FROM audit_log WHERE type = 'user.created' AND user_id = :u", u=user["id"]
    )
    assert [row[0] for row in actors] == [await user_id(client, admin)]


async def test_an_admin_changes_a_user(client: httpx.AsyncClient) -> None:
    admin = await signed_in(client, ROOT, "admin")
    await role(client, admin, "support", "users:read")
    ada = (await register(client, "ada@example.com")).json()
    target = ada["user"]["id"]

    changed = await client.put(
        f"/user/{target}",
        headers=admin,
        json={"name": "Ada L.", "username": "ada", "role": "support", "emailVerified": True},
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["name"], body["username"], body["role"], body["caps"], body["emailVerified"]) == (
        "Ada L.", "ada", "support", ["users:read"], True
    )  # fmt: skip
    # The user's own checks follow at once; the token's claim at the next refresh.
    assert (await client.get("/users", headers=bearer(ada["token"]))).status_code == 200
    refreshed = await client.post("/refresh", json={"refreshToken": ada["refreshToken"]})
    assert refreshed.json()["accessToken"] and refreshed.status_code == 200

    for field, value in (("password", "Another-Horse-42"), ("phone", "+14155550100"), ("currentPassword", "x")):
        refused = await client.put(f"/user/{target}", headers=admin, json={field: value})
        assert_problem(refused, 400, "validation_failed")
        assert [e["field"] for e in refused.json()["errors"]] == [field]
    unknown = await client.put(f"/user/{target}", headers=admin, json={"role": "root"})
    assert_problem(unknown, 400, "validation_failed")
    rows = await sql(
        client,
        "SELECT type, actor_id, data FROM audit_log WHERE user_id = :u AND type IN ('user.role_changed', 'user.updated') ORDER BY seq",
        u=target,
    )
    assert [r[0] for r in rows] == ["user.role_changed", "user.updated"]
    assert rows[0][1] == await user_id(client, admin) and '"before":"user","after":"support"' in rows[0][2]


async def test_self_service_cannot_raise_its_own_privileges(client: httpx.AsyncClient) -> None:
    """Privilege escalation through self-service bodies: refused at register and at PUT."""
    registered = await client.post(
        "/register",
        json={
            "email": "eve@example.com",
            "password": STRONG_PASSWORD,
            "role": "admin",
            "caps": ["*"],
            "disabled": False,
        },
    )
    eve = registered.json()
    assert eve["user"]["role"] == "user" and eve["user"]["caps"] == []
    me = eve["user"]["id"]
    for body in ({"role": "admin"}, {"emailVerified": True}, {"phoneVerified": True}, {"disabled": True}):
        for path in ("/user", f"/user/{me}"):
            assert_problem(await client.put(path, headers=bearer(eve["token"]), json=body), 403, "forbidden")
    assert (await client.put(f"/user/{me}", headers=bearer(eve["token"]), json={"role": "user"})).status_code == 200
    assert (await client.get(f"/user/{me}", headers=bearer(eve["token"]))).json()["role"] == "user"


async def test_write_power_does_not_reach_those_more_powerful(client: httpx.AsyncClient) -> None:
    """Privilege escalation through admin powers: `users:write` alone cannot make anyone an
    admin, nor touch an admin."""
    admin = await signed_in(client, ROOT, "admin")
    root_id = await user_id(client, admin)
    await role(client, admin, "helpdesk", "users:read", "users:write")
    helpdesk = await signed_in(client, "help@example.com", "helpdesk")
    helper_id = await user_id(client, helpdesk)
    ada = (await register(client, "ada@example.com")).json()["user"]["id"]

    refusals = [
        ("PUT", f"/user/{ada}", {"role": "admin"}),
        ("PUT", f"/user/{helper_id}", {"role": "admin"}),
        ("POST", "/user", {"email": "boss@example.com", "password": STRONG_PASSWORD, "role": "admin"}),
        ("PUT", f"/user/{root_id}", {"disabled": True}),
        ("PUT", f"/user/{root_id}", {"name": "Pwned"}),
        ("DELETE", f"/user/{root_id}", None),
        ("DELETE", f"/user/{root_id}/mfa", None),
        ("POST", f"/user/{root_id}/unlock", None),
    ]
    for method, path, body in refusals:
        assert_problem(await client.request(method, path, headers=helpdesk, json=body), 403, "forbidden")
    assert (await client.get(f"/user/{root_id}", headers=admin)).json()["disabled"] is False
    assert (await client.put(f"/user/{ada}", headers=helpdesk, json={"role": "helpdesk"})).status_code == 200
    assert (await client.put(f"/user/{ada}", headers=helpdesk, json={"disabled": True})).status_code == 200


async def test_disabling_ends_the_users_sessions_at_once(client: httpx.AsyncClient) -> None:
    admin = await signed_in(client, ROOT, "admin")
    ada = (await register(client, "ada@example.com")).json()
    token, refresh_token, target = ada["token"], ada["refreshToken"], ada["user"]["id"]
    assert (await client.get("/profile", headers=bearer(token))).status_code == 200

    disabled = await client.put(f"/user/{target}", headers=admin, json={"disabled": True})
    assert disabled.status_code == 200 and disabled.json()["disabled"] is True
    assert_problem(await client.get("/profile", headers=bearer(token)), 401, "invalid_token")
    assert_problem(await client.post("/refresh", json={"refreshToken": refresh_token}), 401, "invalid_token")
    refused = await client.post("/login", json={"email": "ada@example.com", "password": STRONG_PASSWORD})
    assert_problem(refused, 403, "account_disabled")
    live = await sql(client, "SELECT COUNT(*) FROM sessions WHERE user_id = :u AND revoked_at IS NULL", u=target)
    assert live[0][0] == 0

    enabled = await client.put(f"/user/{target}", headers=admin, json={"disabled": False})
    assert enabled.json()["disabled"] is False
    assert (
        await client.post("/login", json={"email": "ada@example.com", "password": STRONG_PASSWORD})
    ).status_code == 200
    types = [r[0] for r in await sql(client, "SELECT type FROM audit_log WHERE user_id = :u ORDER BY seq", u=target)]
    assert types.index("session.revoked") < types.index("user.disabled") < types.index("user.enabled")


async def test_an_admin_deletes_a_user(client: httpx.AsyncClient) -> None:
    admin = await signed_in(client, ROOT, "admin")
    ada = await enrol(client, "ada@example.com")
    plain = bearer((await register(client, "bob@example.com")).json()["token"])
    assert_problem(await client.delete(f"/user/{ada.user_id}", headers=plain), 403, "forbidden")

    assert (await client.delete(f"/user/{ada.user_id}", headers=admin)).status_code == 204
    assert_problem(await client.get("/profile", headers=ada.headers), 401, "invalid_token")
    assert_problem(await client.get(f"/user/{ada.user_id}", headers=admin), 404, "not_found")
    assert_problem(await client.delete(f"/user/{ada.user_id}", headers=admin), 404, "not_found")
    for table in ("sessions", "mfa_totp", "mfa_recovery_codes", "one_time_secrets", "linked_identities"):
        left = await sql(client, f"SELECT COUNT(*) FROM {table} WHERE user_id = :u", u=ada.user_id)  # noqa: S608
        assert left[0][0] == 0, table
    kept = await sql(
        client, "SELECT actor_id FROM audit_log WHERE type = 'user.deleted' AND user_id = :u", u=ada.user_id
    )
    assert [r[0] for r in kept] == [await user_id(client, admin)]
    assert (
        await client.post("/register", json={"email": "ada@example.com", "password": STRONG_PASSWORD})
    ).status_code == 201


async def test_deleting_ones_own_account_needs_a_recent_sign_in(make_client: ClientFactory) -> None:
    async with make_client(reauth_max_age_seconds=0) as client:
        ada = (await register(client, "ada@example.com")).json()
        headers, me = bearer(ada["token"]), ada["user"]["id"]
        assert_problem(await client.delete(f"/user/{me}", headers=headers), 401, "reauthentication_required")
        wrong = await client.request("DELETE", f"/user/{me}", headers=headers, json={"currentPassword": "Wrong-1x"})
        assert_problem(wrong, 401, "invalid_credentials")
        right = await client.request(
            "DELETE", f"/user/{me}", headers=headers, json={"currentPassword": STRONG_PASSWORD}
        )
        assert right.status_code == 204, right.text
        assert (await sql(client, "SELECT COUNT(*) FROM users"))[0][0] == 0
    async with make_client() as client:
        ada = (await register(client, "ada@example.com")).json()
        assert (await client.delete(f"/user/{ada['user']['id']}", headers=bearer(ada["token"]))).status_code == 204


async def test_an_admin_resets_a_lost_second_factor(client: httpx.AsyncClient) -> None:
    admin = await signed_in(client, ROOT, "admin")
    ada = await enrol(client, "ada@example.com")
    pending = await mfa_token(client, ada)

    reset = await client.delete(f"/user/{ada.user_id}/mfa", headers=admin)
    assert reset.status_code == 200, reset.text
    assert set(reset.json()["removed"]) >= {"totp"}
    stale = await client.post("/mfa/verify", json={"mfaToken": pending, "code": await ada.app.code()})
    assert stale.status_code == 401
    signed_in_again = await client.post("/login", json=ada.login_body())
    assert signed_in_again.status_code == 200, signed_in_again.text
    assert signed_in_again.json()["user"]["mfaEnabled"] is False
    again = await client.delete(f"/user/{ada.user_id}/mfa", headers=admin)
    assert again.status_code == 200 and again.json()["removed"] == []
    rows = await sql(client, "SELECT actor_id FROM audit_log WHERE type = 'mfa.reset' AND user_id = :u", u=ada.user_id)
    assert [r[0] for r in rows][:1] == [await user_id(client, admin)]


async def test_a_role_this_node_has_not_read_yet_still_protects_its_holder(client: httpx.AsyncClient) -> None:
    """A role given `*` on another node a moment ago: the check inside the change reads the
    role as stored, so `users:write` still cannot touch its holder."""
    admin = await signed_in(client, ROOT, "admin")
    await role(client, admin, "helpdesk", "users:read", "users:write")
    helpdesk = await signed_in(client, "help@example.com", "helpdesk")
    boss = (await register(client, "boss@example.com")).json()["user"]["id"]
    await sql(
        client,
        "INSERT INTO roles (name, caps, created_at, updated_at) VALUES ('owner', :caps, :t, :t)",
        caps='["*"]',
        t=datetime.now(UTC),
    )
    await sql(client, "UPDATE users SET role = 'owner' WHERE id = :u", u=boss)
    runtime(client).roles.drop("owner")  # as if this node had not read it yet
    runtime(client).principals.drop_user(boss)
    for method, path, body in (
        ("PUT", f"/user/{boss}", {"disabled": True}),
        ("DELETE", f"/user/{boss}", None),
        ("DELETE", f"/user/{boss}/mfa", None),
        ("POST", f"/user/{boss}/unlock", None),
    ):
        assert_problem(await client.request(method, path, headers=helpdesk, json=body), 403, "forbidden")
    assert (await client.get(f"/user/{boss}", headers=admin)).json()["disabled"] is False
