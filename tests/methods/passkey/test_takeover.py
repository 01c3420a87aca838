"""Pre-registration takeover with a planted passkey: someone registers the victim's address
(never verified) with a password and adds a passkey of their own. When the owner proves the
address by signing in through it (magic link, email code) or by a reset link, the account is
claimed: the planted passkey is removed (audited with reason `account_claimed`) and the
registrant's authenticator signs no one in. A verification link confirms the registration as
it is, passkey included."""

from __future__ import annotations

import httpx
import pytest

from tests.support.http import bearer
from tests.support.mail import Mailbox, link_in, mail_code
from tests.support.passkeys import (
    Account,
    account,
    add_passkey,
    assert_problem,
    audit,
    events,
    passkey_count,
    passkey_login,
    passkeys_of,
)
from tests.support.webauthn import SoftAuthenticator

BOB = "bob@example.com"
ATTACKER_PASSWORD = "Attacker-Pass-77"
OWNER_PASSWORD = "Owner-Pass-2024"


async def squat(client: httpx.AsyncClient) -> tuple[Account, str]:
    """The attacker registers Bob's address with a password of their own and adds a passkey."""
    attacker = await account(client, BOB, password=ATTACKER_PASSWORD)
    planted = await add_passkey(client, attacker, name="Backup")
    assert (await passkey_login(client, attacker.device)).status_code == 200  # it works, for now
    return attacker, str(planted["id"])


async def claim(client: httpx.AsyncClient, mailbox: Mailbox, way: str) -> str:
    """The owner's first proof of the address; an access token of the owner's session."""
    if way == "magic-link":
        assert (await client.post("/login/magic", json={"email": BOB})).status_code == 202
        owner = await client.get(link_in(await mailbox.wait_for(BOB), "/login/magic/"))
    elif way == "email-code":
        assert (await client.post("/otp/send", json={"channel": "email", "email": BOB})).status_code == 202
        code = mail_code(await mailbox.wait_for(BOB))
        owner = await client.post("/otp/verify", json={"channel": "email", "email": BOB, "code": code})
    else:
        assert (await client.post("/password/forgot", json={"email": BOB})).status_code == 202
        reset = await client.post(
            link_in(await mailbox.wait_for(BOB), "/password/reset/"), json={"password": OWNER_PASSWORD}
        )
        assert reset.status_code == 200, reset.text
        owner = await client.post("/login", json={"email": BOB, "password": OWNER_PASSWORD})
    assert owner.status_code == 200, owner.text
    client.cookies.clear()
    token: str = owner.json()["accessToken"]
    return token


@pytest.mark.parametrize("way", ["magic-link", "email-code", "reset-link"])
async def test_pre_registration_takeover_with_a_planted_passkey_is_undone(
    mclient: httpx.AsyncClient, mailbox: Mailbox, way: str
) -> None:
    attacker, planted = await squat(mclient)
    owner = await claim(mclient, mailbox, way)

    assert await passkey_count(mclient, attacker.user_id) == 0
    assert await passkeys_of(mclient, bearer(owner)) == []
    removed = await audit(mclient, "passkey.removed", attacker.user_id)
    assert [(r["data"]["passkey"], r["data"]["reason"]) for r in removed] == [(planted, "account_claimed")]
    assert any(e["userId"] == attacker.user_id for e in await events(mclient, "passkey.removed"))
    # The registrant's authenticator signs no one in, and their session and password are gone.
    assert_problem(await passkey_login(mclient, attacker.device), 401, "invalid_credentials")
    assert (await mclient.get("/user", headers=attacker.headers)).status_code == 401
    login = await mclient.post("/login", json={"email": BOB, "password": ATTACKER_PASSWORD})
    assert_problem(login, 401, "invalid_credentials")
    # The owner may add a passkey of their own afterwards.
    mine = Account(BOB, attacker.user_id, owner, SoftAuthenticator())
    await add_passkey(mclient, mine)
    assert (await passkey_login(mclient, mine.device)).status_code == 200


async def test_a_verification_link_keeps_the_registration_and_its_passkey(
    mclient: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    """The registrant verifying their own address signs no one in: nothing is claimed."""
    registrant, planted = await squat(mclient)
    assert (await mclient.post("/email/verify", json={"email": BOB})).status_code == 202
    verified = await mclient.get(link_in(await mailbox.wait_for(BOB), "/email/verify/"))
    assert verified.status_code == 200, verified.text
    assert [p["id"] for p in await passkeys_of(mclient, registrant.headers)] == [planted]
    assert await audit(mclient, "passkey.removed") == []
    assert (await passkey_login(mclient, registrant.device)).status_code == 200
    # Once verified, a magic link is just a sign-in: the passkey stays.
    assert (await mclient.post("/login/magic", json={"email": BOB})).status_code == 202
    assert (await mclient.get(link_in(await mailbox.wait_for(BOB, 2), "/login/magic/"))).status_code == 200
    assert await passkey_count(mclient, registrant.user_id) == 1
    password = await mclient.post("/login", json={"email": BOB, "password": ATTACKER_PASSWORD})
    assert password.status_code == 200, password.text
