"""Managing passkeys: deleting one's own (audited, never the last way into an account without a
password or a provider), another account's passkeys being out of reach, social unlinking that
counts passkeys, and the administrators' list and removal (the last one too), with the
second-factor reset leaving passkeys alone and the account's deletion taking them."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from tests.support.app import sql
from tests.support.http import admin_token, bearer
from tests.support.oidc_provider import TestProvider
from tests.support.passkeys import (
    Account,
    account,
    add_passkey,
    assert_problem,
    audit,
    events,
    mfa_account_with_passkey,
    passkey_count,
    passkey_login,
    passkeys_of,
)
from tests.support.social import SocialClientFactory, sign_in
from tests.support.webauthn import SoftAuthenticator, b64
from tests.support.webhooks import WebhookReceiver, manager_token, subscribe


@pytest.fixture
async def ada(client: httpx.AsyncClient) -> Account:
    who = await account(client)
    await add_passkey(client, who)
    return who


async def only_passkey_id(client: httpx.AsyncClient, who: Account) -> str:
    listed = await passkeys_of(client, who.headers)
    assert len(listed) == 1
    return str(listed[0]["id"])


async def test_deleting_ones_passkey_is_audited_and_emitted(client: httpx.AsyncClient, ada: Account) -> None:
    passkey_id = await only_passkey_id(client, ada)
    gone = await client.delete(f"/passkeys/{passkey_id}", headers=ada.headers)
    assert gone.status_code == 204, gone.text
    assert await passkeys_of(client, ada.headers) == []
    removed = await audit(client, "passkey.removed", ada.user_id)
    assert [(r["data"]["passkey"], r["data"]["reason"]) for r in removed] == [(passkey_id, "user")]
    assert removed[0]["actor"] in (None, ada.user_id)
    emitted = await events(client, "passkey.removed")
    assert len(emitted) == 1 and emitted[0]["userId"] == ada.user_id
    assert_problem(await client.delete(f"/passkeys/{passkey_id}", headers=ada.headers), 404, "not_found")


async def test_sessions_signed_in_with_a_deleted_passkey_stay(client: httpx.AsyncClient, ada: Account) -> None:
    signed_in = await passkey_login(client, ada.device)
    assert signed_in.status_code == 200, signed_in.text
    token = signed_in.json()["accessToken"]
    passkey_id = await only_passkey_id(client, ada)
    assert (await client.delete(f"/passkeys/{passkey_id}", headers=ada.headers)).status_code == 204
    assert (await client.get("/user", headers=bearer(token))).status_code == 200


async def test_another_accounts_passkey_is_not_found(client: httpx.AsyncClient, ada: Account) -> None:
    passkey_id = await only_passkey_id(client, ada)
    bob = await account(client, "bob@example.com")
    await add_passkey(client, bob)
    for pid in (passkey_id, str(uuid.uuid4()), "not-an-id"):
        assert_problem(
            await client.put(f"/passkeys/{pid}", headers=bob.headers, json={"name": "Mine"}), 404, "not_found"
        )
        assert_problem(await client.delete(f"/passkeys/{pid}", headers=bob.headers), 404, "not_found")
    listed = await passkeys_of(client, ada.headers)
    assert listed[0]["name"] == "Passkey"
    assert [p["id"] for p in await passkeys_of(client, bob.headers)] != [passkey_id]
    assert await passkey_count(client) == 2


# --- the last way in ----------------------------------------------------------------------------


async def provider_account(client: httpx.AsyncClient, op: TestProvider, email: str = "alice@example.com") -> Account:
    """An account opened through the provider: no password of its own."""
    op.login_as(email.split("@")[0] + "-1", email=email, email_verified=True)
    signed_in = await sign_in(client)
    assert signed_in.status_code == 200, signed_in.text
    client.cookies.clear()
    body = signed_in.json()
    return Account(email, body["user"]["id"], body["accessToken"], SoftAuthenticator())


async def test_the_last_passkey_of_an_account_without_password_or_provider_stays(
    social: SocialClientFactory, op: TestProvider
) -> None:
    async with social() as client:
        alice = await provider_account(client, op)
        me = (await client.get("/user", headers=alice.headers)).json()
        assert me["hasPassword"] is False
        assert_problem(await client.delete("/oauth/link/acme", headers=alice.headers), 409, "last_sign_in_method")
        first = await add_passkey(client, alice)
        # A passkey is a way in: the provider may go now.
        unlinked = await client.delete("/oauth/link/acme", headers=alice.headers)
        assert unlinked.status_code == 204, unlinked.text
        # The only passkey of an account with nothing else cannot be deleted by its user.
        last = await client.delete(f"/passkeys/{first['id']}", headers=alice.headers)
        assert_problem(last, 409, "last_sign_in_method")
        assert await passkey_count(client, alice.user_id) == 1
        # With a second one, either may go, but not both.
        spare = SoftAuthenticator()
        second = await add_passkey(client, alice, spare)
        assert (await client.delete(f"/passkeys/{first['id']}", headers=alice.headers)).status_code == 204
        assert_problem(
            await client.delete(f"/passkeys/{second['id']}", headers=alice.headers), 409, "last_sign_in_method"
        )
        signed_in = await passkey_login(client, spare)
        assert signed_in.status_code == 200, signed_in.text
        assert signed_in.json()["user"]["id"] == alice.user_id
        # An administrator may remove the last one (a lost device).
        admin = bearer(await admin_token(client))
        gone = await client.delete(f"/user/{alice.user_id}/passkeys/{second['id']}", headers=admin)
        assert gone.status_code == 204, gone.text
        assert await passkey_count(client, alice.user_id) == 0


async def test_concurrent_deletes_cannot_remove_the_last_way_in(social: SocialClientFactory, op: TestProvider) -> None:
    async with social() as client:
        alice = await provider_account(client, op)
        ids = [(await add_passkey(client, alice, SoftAuthenticator()))["id"] for _ in range(2)]
        assert (await client.delete("/oauth/link/acme", headers=alice.headers)).status_code == 204
        answers = await asyncio.gather(*(client.delete(f"/passkeys/{pid}", headers=alice.headers) for pid in ids))
        assert sorted(a.status_code for a in answers) == [204, 409], [a.text for a in answers]
        assert await passkey_count(client, alice.user_id) == 1


async def test_unlinking_the_provider_is_refused_once_the_passkeys_are_gone(
    social: SocialClientFactory, op: TestProvider
) -> None:
    async with social() as client:
        alice = await provider_account(client, op)
        passkey = await add_passkey(client, alice)
        # The provider still stands beside it, so the passkey may go ...
        assert (await client.delete(f"/passkeys/{passkey['id']}", headers=alice.headers)).status_code == 204
        # ... and then the provider is the last way in again.
        assert_problem(await client.delete("/oauth/link/acme", headers=alice.headers), 409, "last_sign_in_method")


# --- administrators ------------------------------------------------------------------------------


async def test_an_admin_lists_and_removes_a_users_passkeys(client: httpx.AsyncClient, ada: Account) -> None:
    second = await add_passkey(client, ada, SoftAuthenticator(), name="Spare")
    admin = bearer(await admin_token(client))
    admin_id = (await client.get("/user", headers=admin)).json()["id"]
    listed = await client.get(f"/user/{ada.user_id}/passkeys", headers=admin)
    assert listed.status_code == 200, listed.text
    assert listed.json() == await passkeys_of(client, ada.headers)

    gone = await client.delete(f"/user/{ada.user_id}/passkeys/{second['id']}", headers=admin)
    assert gone.status_code == 204, gone.text
    assert [p["name"] for p in await passkeys_of(client, ada.headers)] == ["Passkey"]
    removed = await audit(client, "passkey.removed", ada.user_id)
    assert [(r["data"]["passkey"], r["data"]["reason"], r["actor"]) for r in removed] == [
        (second["id"], "admin", admin_id)
    ]
    assert len(await events(client, "passkey.removed")) == 1
    # The last one may go too.
    first = await only_passkey_id(client, ada)
    assert (await client.delete(f"/user/{ada.user_id}/passkeys/{first}", headers=admin)).status_code == 204
    assert await passkeys_of(client, ada.headers) == []


async def test_admin_passkey_routes_find_only_that_users_passkeys(client: httpx.AsyncClient, ada: Account) -> None:
    bob = await account(client, "bob@example.com")
    await add_passkey(client, bob)
    bobs = await only_passkey_id(client, bob)
    admin = bearer(await admin_token(client))
    assert_problem(await client.delete(f"/user/{ada.user_id}/passkeys/{bobs}", headers=admin), 404, "not_found")
    assert_problem(await client.delete(f"/user/{ada.user_id}/passkeys/{uuid.uuid4()}", headers=admin), 404, "not_found")
    assert_problem(await client.get(f"/user/{uuid.uuid4()}/passkeys", headers=admin), 404, "not_found")
    assert_problem(await client.delete(f"/user/{uuid.uuid4()}/passkeys/{bobs}", headers=admin), 404, "not_found")
    assert await passkey_count(client) == 2


async def test_admin_passkey_routes_need_their_capabilities(client: httpx.AsyncClient, ada: Account) -> None:
    passkey_id = await only_passkey_id(client, ada)
    bob = await account(client, "bob@example.com")
    for method, path in (
        ("GET", f"/user/{ada.user_id}/passkeys"),
        ("DELETE", f"/user/{ada.user_id}/passkeys/{passkey_id}"),
    ):
        assert (await client.request(method, path)).status_code == 401
        assert_problem(await client.request(method, path, headers=bob.headers), 403, "forbidden")
    # users:read lists but does not remove.
    admin = bearer(await admin_token(client))
    assert (
        await client.post("/roles", headers=admin, json={"name": "reader", "caps": ["users:read"]})
    ).status_code == 201
    reader = bearer(await admin_token(client, "reader@example.com", role="reader"))
    assert (await client.get(f"/user/{ada.user_id}/passkeys", headers=reader)).status_code == 200
    assert_problem(await client.delete(f"/user/{ada.user_id}/passkeys/{passkey_id}", headers=reader), 403, "forbidden")
    assert await passkey_count(client) == 1


async def test_no_one_removes_the_passkeys_of_someone_above_their_rights(client: httpx.AsyncClient) -> None:
    admin = bearer(await admin_token(client))
    assert (
        await client.post("/roles", headers=admin, json={"name": "helpdesk", "caps": ["users:read", "users:write"]})
    ).status_code == 201
    helpdesk = bearer(await admin_token(client, "help@example.com", role="helpdesk"))
    root_id = (await client.get("/user", headers=admin)).json()["id"]
    root = Account("root@example.com", root_id, admin["Authorization"].removeprefix("Bearer "), SoftAuthenticator())
    passkey = await add_passkey(client, root)
    refused = await client.delete(f"/user/{root_id}/passkeys/{passkey['id']}", headers=helpdesk)
    assert_problem(refused, 403, "forbidden")
    assert await passkey_count(client, root_id) == 1


async def test_the_second_factor_reset_keeps_passkeys_and_deleting_the_account_takes_them(
    client: httpx.AsyncClient,
) -> None:
    ada, device = await mfa_account_with_passkey(client)
    admin = bearer(await admin_token(client))
    reset = await client.delete(f"/user/{ada.user_id}/mfa", headers=admin)
    assert reset.status_code == 200, reset.text
    assert "passkey" not in reset.json()["removed"]
    assert await passkey_count(client, ada.user_id) == 1
    assert await audit(client, "passkey.removed", ada.user_id) == []
    # With no second factor left, the passkey signs in alone.
    signed_in = await passkey_login(client, device)
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["user"]["mfaEnabled"] is False

    assert (await client.delete(f"/user/{ada.user_id}", headers=admin)).status_code == 204
    assert await passkey_count(client, ada.user_id) == 0
    assert_problem(await passkey_login(client, device), 401, "invalid_credentials")
    left = await sql(client, "SELECT count(*) FROM one_time_secrets WHERE user_id = :u", u=ada.user_id)
    assert left[0][0] == 0


async def test_mfa_methods_drop_passkey_once_it_is_removed(client: httpx.AsyncClient) -> None:
    ada, _ = await mfa_account_with_passkey(client)
    headers = bearer(
        (await client.post("/login", json=ada.login_body(mfaCode=await ada.app.code()))).json()["accessToken"]
    )
    client.cookies.clear()
    passkey_id = (await passkeys_of(client, headers))[0]["id"]
    assert (await client.delete(f"/passkeys/{passkey_id}", headers=headers)).status_code == 204
    pending = await client.post("/login", json=ada.login_body())
    assert assert_problem(pending, 401, "mfa_required")["mfaMethods"] == ["totp", "recovery"]


async def test_subscribers_receive_passkey_events(hclient: httpx.AsyncClient, receiver: WebhookReceiver) -> None:
    token = await manager_token(hclient)
    await subscribe(hclient, token, receiver.url, ["passkey.added", "passkey.removed"])
    ada = await account(hclient)
    passkey = await add_passkey(hclient, ada, name="Laptop")
    assert (await hclient.delete(f"/passkeys/{passkey['id']}", headers=ada.headers)).status_code == 204
    added = (await receiver.wait_for("passkey.added"))[0].event
    removed = (await receiver.wait_for("passkey.removed"))[0].event
    assert added["data"]["userId"] == ada.user_id and removed["data"]["userId"] == ada.user_id
    assert b64(ada.device.only.public_key_cose) not in str(added)
