"""Signing in with a passkey as the first factor: discoverable credentials (no identifier, no
allowCredentials), the login response with or without cookies, what the sign-in records, and the
`amr` of the access token for a device-bound and a synced passkey."""

from __future__ import annotations

import httpx
import pytest

from tests.support.app import ClientFactory
from tests.support.http import STRONG_PASSWORD, bearer, set_cookies
from tests.support.mfa import enrol
from tests.support.passkeys import (
    Account,
    account,
    add_passkey,
    assert_problem,
    audit,
    claims,
    login_options,
    login_verify,
    passkey_login,
    passkeys_of,
    stored,
)
from tests.support.webauthn import OMIT, SoftAuthenticator

LOGIN_FIELDS = {"message", "token", "accessToken", "refreshToken", "tokenType", "expiresIn", "user", "name", "email"}


@pytest.fixture
async def ada(client: httpx.AsyncClient) -> Account:
    who = await account(client, "ada@example.com", name="Ada Lovelace")
    await add_passkey(client, who)
    return who


async def test_login_options_name_no_one(client: httpx.AsyncClient) -> None:
    for body in (None, {}):
        response = await client.post("/passkeys/login/options", json=body)
        assert response.status_code == 200, response.text
        started = response.json()
        assert set(started) == {"challengeId", "options", "expiresAt"}
        options = started["options"]
        assert options["rpId"] == "testserver"
        assert options["allowCredentials"] == []
        assert options["userVerification"] == "required"
        assert options["timeout"] == 300000
        assert len(options["challenge"]) >= 43  # 32 bytes or more, base64url
    first, second = await login_options(client), await login_options(client)
    assert first["challengeId"] != second["challengeId"]
    assert first["options"]["challenge"] != second["options"]["challenge"]


async def test_a_discoverable_sign_in_answers_the_login_response_with_cookies(
    client: httpx.AsyncClient, ada: Account
) -> None:
    started = await login_options(client)
    response = await login_verify(client, started["challengeId"], ada.device.get(started["options"]))
    assert response.status_code == 200, response.text
    body = response.json()
    assert LOGIN_FIELDS <= set(body)
    assert body["token"] == body["accessToken"] and body["tokenType"] == "Bearer"
    assert body["user"]["id"] == ada.user_id and body["email"] == "ada@example.com" and body["name"] == "Ada Lovelace"
    assert body["user"]["mfaEnabled"] is False
    cookies = set_cookies(response)
    assert cookies["accessToken"]["value"] == body["accessToken"]
    assert cookies["refreshToken"]["value"] == body["refreshToken"]
    assert "httponly" in cookies["accessToken"] and "httponly" in cookies["refreshToken"]
    client.cookies.clear()
    me = await client.get("/user", headers=bearer(body["accessToken"]))
    assert me.status_code == 200 and me.json()["id"] == ada.user_id
    token = claims(body["accessToken"])
    assert token["sub"] == ada.user_id and token["amr"] == ["hwk"]
    refreshed = await client.post("/refresh", json={"refreshToken": body["refreshToken"]})
    assert refreshed.status_code == 200, refreshed.text


async def test_set_cookie_false_answers_without_cookies(client: httpx.AsyncClient, ada: Account) -> None:
    response = await passkey_login(client, ada.device, set_cookie=False)
    assert response.status_code == 200, response.text
    assert "set-cookie" not in response.headers
    assert response.json()["accessToken"]


async def test_a_sign_in_moves_the_counter_and_stamps_last_used(client: httpx.AsyncClient, ada: Account) -> None:
    held = ada.device.only
    assert (await passkeys_of(client, ada.headers))[0]["lastUsedAt"] is None
    for expected in (1, 2):
        assert (await passkey_login(client, ada.device)).status_code == 200
        row = await stored(client, held.id)
        assert row is not None and row["sign_count"] == expected
    listed = await passkeys_of(client, ada.headers)
    assert listed[0]["lastUsedAt"] is not None


async def test_a_sign_in_is_audited_with_its_method(client: httpx.AsyncClient, ada: Account) -> None:
    assert (await passkey_login(client, ada.device)).status_code == 200
    logins = await audit(client, "user.login", ada.user_id)
    assert logins[-1]["data"]["methods"] == ["passkey"]


async def test_the_user_handle_may_be_left_out(client: httpx.AsyncClient, ada: Account) -> None:
    response = await passkey_login(client, ada.device, user_handle=OMIT)
    assert response.status_code == 200, response.text
    assert response.json()["user"]["id"] == ada.user_id


async def test_each_passkey_signs_in_its_own_account(client: httpx.AsyncClient, ada: Account) -> None:
    bob = await account(client, "bob@example.com")
    await add_passkey(client, bob)
    for who in (ada, bob, ada):
        response = await passkey_login(client, who.device)
        assert response.status_code == 200, response.text
        assert response.json()["user"]["id"] == who.user_id


async def test_one_authenticator_with_two_accounts_signs_in_the_one_chosen(
    client: httpx.AsyncClient, ada: Account
) -> None:
    """One phone holding passkeys of two accounts at the same site: the user picks one."""
    bob = await account(client, "bob@example.com")
    await add_passkey(client, bob, ada.device)
    first, second = ada.device.held("testserver")
    for chosen, who in ((first, ada), (second, bob)):
        response = await passkey_login(client, ada.device, chosen)
        assert response.status_code == 200, response.text
        assert response.json()["user"]["id"] == who.user_id


async def test_a_synced_passkey_is_swk(client: httpx.AsyncClient) -> None:
    ada = await account(client)
    synced = SoftAuthenticator(backup_eligible=True, backed_up=True, counter_step=0)
    await add_passkey(client, ada, synced)
    for _ in range(2):  # a counter that stays at zero is fine
        response = await passkey_login(client, synced)
        assert response.status_code == 200, response.text
        assert claims(response.json()["accessToken"])["amr"] == ["swk"]


async def test_a_synced_passkey_whose_backup_state_changes_still_signs_in(client: httpx.AsyncClient) -> None:
    """Backed-up is a state (the user turned sync on or off), unlike backup eligibility."""
    ada = await account(client)
    synced = SoftAuthenticator(backup_eligible=True, backed_up=False, counter_step=0)
    await add_passkey(client, ada, synced)
    response = await passkey_login(client, synced, backed_up=True)
    assert response.status_code == 200, response.text
    assert (await passkeys_of(client, ada.headers))[0]["backedUp"] is True


async def test_a_password_still_signs_in_alone(client: httpx.AsyncClient, ada: Account) -> None:
    """A passkey does not turn MFA on: the password keeps signing in in one step."""
    response = await client.post("/login", json={"email": ada.email, "password": STRONG_PASSWORD})
    assert response.status_code == 200, response.text
    assert response.json()["user"]["mfaEnabled"] is False
    assert claims(response.json()["accessToken"])["amr"] == ["pwd"]


# --- with a second factor ------------------------------------------------------------------------


async def test_with_a_second_factor_a_passkey_sign_in_asks_for_it(client: httpx.AsyncClient) -> None:
    ada = await enrol(client)
    device = SoftAuthenticator()
    who = Account(ada.email, ada.user_id, ada.token, device)
    await add_passkey(client, who, proof={"mfaCode": await ada.app.code()})
    pending = await passkey_login(client, device)
    body = assert_problem(pending, 401, "mfa_required")
    assert body["mfaMethods"] == ["totp", "recovery"]
    assert "passkey" not in body["mfaMethods"] and "accessToken" not in body
    done = await client.post("/mfa/verify", json={"mfaToken": body["mfaToken"], "code": ada.recovery_codes[0]})
    assert done.status_code == 200, done.text
    assert claims(done.json()["accessToken"])["amr"] == ["hwk", "rec"]
    logins = await audit(client, "user.login", ada.user_id)
    methods = logins[-1]["data"]["methods"]
    assert methods[0] == "passkey" and len(methods) == 2


async def test_a_synced_passkey_then_a_recovery_code_is_swk_rec(client: httpx.AsyncClient) -> None:
    ada = await enrol(client)
    device = SoftAuthenticator(backup_eligible=True, backed_up=True)
    await add_passkey(
        client, Account(ada.email, ada.user_id, ada.token, device), proof={"mfaCode": await ada.app.code()}
    )
    body = assert_problem(await passkey_login(client, device), 401, "mfa_required")
    done = await client.post("/mfa/verify", json={"mfaToken": body["mfaToken"], "code": ada.recovery_codes[0]})
    assert done.status_code == 200, done.text
    assert claims(done.json()["accessToken"])["amr"] == ["swk", "rec"]


async def test_when_a_passkey_satisfies_mfa_it_signs_in_alone(make_client: ClientFactory) -> None:
    async with make_client(passkey_satisfies_mfa=True) as client:
        ada = await enrol(client)
        device = SoftAuthenticator()
        await add_passkey(
            client, Account(ada.email, ada.user_id, ada.token, device), proof={"mfaCode": await ada.app.code()}
        )
        response = await passkey_login(client, device)
        assert response.status_code == 200, response.text
        assert claims(response.json()["accessToken"])["amr"] == ["hwk", "mfa"]
        assert response.json()["user"]["mfaEnabled"] is True
        # The password still needs the second step.
        password = await client.post("/login", json=ada.login_body())
        assert_problem(password, 401, "mfa_required")
