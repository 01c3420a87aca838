"""A passkey as the second step of a sign-in whose first factor was something else: offered in
`mfaMethods` after the account's other factors, its own options for the mfaToken, `/mfa/verify`
with the assertion, and the rules of that step (no user verification needed, a refused assertion
spends a try of the mfaToken and counts toward lockout, a challenge only for its mfaToken)."""

from __future__ import annotations

import httpx

from tests.support.app import ClientFactory
from tests.support.mail import Mailbox, mail_code
from tests.support.mfa import enrol, mfa_token
from tests.support.passkeys import (
    assert_problem,
    audit,
    claims,
    expire_challenges,
    login_options,
    mfa_account_with_passkey,
    mfa_options,
    mfa_with_passkey,
)
from tests.support.webauthn import SoftAuthenticator


async def test_mfa_methods_offer_the_passkey_last(client: httpx.AsyncClient) -> None:
    ada, _ = await mfa_account_with_passkey(client)
    response = await client.post("/login", json=ada.login_body())
    body = assert_problem(response, 401, "mfa_required")
    assert body["mfaMethods"] == ["totp", "recovery", "passkey"]
    me = await client.get("/user", headers=ada.headers)
    assert me.json()["mfaEnabled"] is True


async def test_the_second_step_options_list_the_accounts_passkeys(client: httpx.AsyncClient) -> None:
    ada, device = await mfa_account_with_passkey(client)
    await mfa_account_with_passkey(client, "bob@example.com")
    token = await mfa_token(client, ada)
    response = await mfa_options(client, token)
    assert response.status_code == 200, response.text
    started = response.json()
    assert set(started) == {"challengeId", "options", "expiresAt"}
    options = started["options"]
    assert options["rpId"] == "testserver"
    assert options["userVerification"] == "discouraged"
    assert [c["id"] for c in options["allowCredentials"]] == [device.only.id]
    assert options["allowCredentials"][0]["type"] == "public-key"
    assert len(options["challenge"]) >= 43


async def test_a_passkey_finishes_a_password_sign_in(client: httpx.AsyncClient) -> None:
    ada, device = await mfa_account_with_passkey(client)
    token = await mfa_token(client, ada)
    done = await mfa_with_passkey(client, token, device)
    assert done.status_code == 200, done.text
    assert done.json()["user"]["id"] == ada.user_id
    assert claims(done.json()["accessToken"])["amr"] == ["pwd", "hwk"]
    assert "passkey" in (await audit(client, "user.login", ada.user_id))[-1]["data"]["methods"]
    # The mfaToken is spent.
    assert_problem(await mfa_options(client, token), 401, "invalid_token")


async def test_the_second_step_does_not_need_user_verification(client: httpx.AsyncClient) -> None:
    """A security key without a PIN is a possession factor: enough for the second step."""
    ada, device = await mfa_account_with_passkey(client)
    done = await mfa_with_passkey(client, await mfa_token(client, ada), device, user_verified=False)
    assert done.status_code == 200, done.text


async def test_a_synced_passkey_as_second_step_is_swk(client: httpx.AsyncClient) -> None:
    synced = SoftAuthenticator(backup_eligible=True, backed_up=True, counter_step=0)
    ada, device = await mfa_account_with_passkey(client, device=synced)
    done = await mfa_with_passkey(client, await mfa_token(client, ada), device)
    assert done.status_code == 200, done.text
    assert claims(done.json()["accessToken"])["amr"] == ["pwd", "swk"]


async def test_the_explicit_method_name_is_taken(client: httpx.AsyncClient) -> None:
    ada, device = await mfa_account_with_passkey(client)
    token = await mfa_token(client, ada)
    started = (await mfa_options(client, token)).json()
    done = await client.post(
        "/mfa/verify",
        json={
            "mfaToken": token,
            "challengeId": started["challengeId"],
            "credential": device.get(started["options"]),
            "method": "passkey",
        },
    )
    assert done.status_code == 200, done.text


async def test_fetching_options_spends_no_try(client: httpx.AsyncClient) -> None:
    ada, device = await mfa_account_with_passkey(client)
    token = await mfa_token(client, ada)
    for _ in range(8):
        assert (await mfa_options(client, token)).status_code == 200
    done = await mfa_with_passkey(client, token, device)
    assert done.status_code == 200, done.text


async def test_options_need_a_live_mfa_token_offering_passkey(client: httpx.AsyncClient) -> None:
    for fake in ("x" * 43, "not-a-token"):
        assert_problem(await mfa_options(client, fake), 401, "invalid_token")
    # An account with TOTP but no passkey: the step is not offered.
    carol = await enrol(client, "carol@example.com")
    token = await mfa_token(client, carol)
    body = assert_problem(await mfa_options(client, token), 400, "validation_failed")
    assert [e["field"] for e in body["errors"]] == ["method"]
    # The token is untouched by that.
    ok = await client.post("/mfa/verify", json={"mfaToken": token, "code": await carol.app.code()})
    assert ok.status_code == 200, ok.text


async def test_a_challenge_only_answers_its_own_mfa_token(client: httpx.AsyncClient) -> None:
    ada, device = await mfa_account_with_passkey(client)
    first, second = await mfa_token(client, ada), await mfa_token(client, ada)
    for_first = (await mfa_options(client, first)).json()
    crossed = await client.post(
        "/mfa/verify",
        json={
            "mfaToken": second,
            "challengeId": for_first["challengeId"],
            "credential": device.get(for_first["options"]),
        },
    )
    assert_problem(crossed, 400, "invalid_token")
    # A sign-in challenge is not a second-step one either.
    signing_in = await login_options(client)
    options = {**for_first["options"], "challenge": signing_in["options"]["challenge"]}
    other_purpose = await client.post(
        "/mfa/verify",
        json={"mfaToken": second, "challengeId": signing_in["challengeId"], "credential": device.get(options)},
    )
    assert_problem(other_purpose, 400, "invalid_token")
    # Nor is an expired one.
    late = (await mfa_options(client, second)).json()
    await expire_challenges(client, "passkey_mfa")
    expired = await client.post(
        "/mfa/verify",
        json={"mfaToken": second, "challengeId": late["challengeId"], "credential": device.get(late["options"])},
    )
    assert_problem(expired, 400, "invalid_token")
    # The second token still finishes with a fresh challenge.
    done = await mfa_with_passkey(client, second, device)
    assert done.status_code == 200, done.text


async def test_a_challenge_answers_once(client: httpx.AsyncClient) -> None:
    ada, device = await mfa_account_with_passkey(client)
    token = await mfa_token(client, ada)
    started = (await mfa_options(client, token)).json()
    forged = device.get(started["options"], forge=True)
    refused = await client.post(
        "/mfa/verify", json={"mfaToken": token, "challengeId": started["challengeId"], "credential": forged}
    )
    assert_problem(refused, 401, "invalid_mfa_code")
    good = device.get(started["options"])
    again = await client.post(
        "/mfa/verify", json={"mfaToken": token, "challengeId": started["challengeId"], "credential": good}
    )
    assert_problem(again, 400, "invalid_token")


async def test_refused_assertions_spend_the_mfa_tokens_tries(make_client: ClientFactory) -> None:
    async with make_client(lockout_threshold=50) as client:
        ada, device = await mfa_account_with_passkey(client)
        bob, bobs = await mfa_account_with_passkey(client, "bob@example.com")
        token = await mfa_token(client, ada)
        refusals = [
            {"forge": True},
            {"origin": "https://evil.example"},
            {"rp_id": "evil.example"},
            {"user_present": False},
        ]
        for knob in refusals:
            assert_problem(await mfa_with_passkey(client, token, device, **knob), 401, "invalid_mfa_code")
        # Bob's passkey is no second factor of Ada's account.
        started = (await mfa_options(client, token)).json()
        foreign = bobs.get(started["options"], credential=bobs.only)
        refused = await client.post(
            "/mfa/verify", json={"mfaToken": token, "challengeId": started["challengeId"], "credential": foreign}
        )
        assert_problem(refused, 401, "invalid_mfa_code")
        # Five tries spent: the token is dead, even for the right passkey.
        dead = await client.post("/mfa/verify", json={"mfaToken": token, "code": await ada.app.code()})
        assert_problem(dead, 401, "invalid_token")
        failures = await audit(client, "user.login_failed", ada.user_id)
        assert len(failures) == 5
        assert await audit(client, "user.login_failed", bob.user_id) == []


async def test_refused_assertions_count_toward_lockout(make_client: ClientFactory) -> None:
    async with make_client(lockout_threshold=3) as client:
        ada, device = await mfa_account_with_passkey(client)
        token = await mfa_token(client, ada)
        for _ in range(3):
            refused = await mfa_with_passkey(client, token, device, forge=True)
            assert refused.status_code in (401, 429), refused.text
        locked = await client.post("/login", json=ada.login_body())
        assert_problem(locked, 429, "account_locked")
        assert locked.headers.get("retry-after")
        assert len(await audit(client, "user.locked", ada.user_id)) == 1


async def test_a_code_and_a_credential_together_are_refused(client: httpx.AsyncClient) -> None:
    ada, device = await mfa_account_with_passkey(client)
    token = await mfa_token(client, ada)
    started = (await mfa_options(client, token)).json()
    both = await client.post(
        "/mfa/verify",
        json={
            "mfaToken": token,
            "challengeId": started["challengeId"],
            "credential": device.get(started["options"]),
            "code": await ada.app.code(),
        },
    )
    assert_problem(both, 400, "validation_failed")
    done = await mfa_with_passkey(client, token, device)
    assert done.status_code == 200, done.text


async def test_with_every_factor_the_passkey_comes_after_the_code(mclient: httpx.AsyncClient, mailbox: Mailbox) -> None:
    ada, _ = await mfa_account_with_passkey(mclient)
    sent = await mclient.post("/otp/send", headers=ada.headers, json={"channel": "email", "purpose": "mfa"})
    assert sent.status_code == 202, sent.text
    code = mail_code(await mailbox.wait_for(ada.email))
    on = await mclient.post(
        "/otp/verify",
        headers=ada.headers,
        json={"channel": "email", "code": code, "purpose": "mfa", "mfaCode": await ada.app.code()},
    )
    assert on.status_code == 200, on.text
    pending = await mclient.post("/login", json=ada.login_body())
    assert assert_problem(pending, 401, "mfa_required")["mfaMethods"] == ["totp", "recovery", "code", "passkey"]


async def test_the_openapi_document_describes_the_passkey_endpoints(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    for path, method in (
        ("/passkeys/register/options", "post"),
        ("/passkeys/register/verify", "post"),
        ("/passkeys", "get"),
        ("/passkeys/{id}", "put"),
        ("/passkeys/{id}", "delete"),
        ("/passkeys/login/options", "post"),
        ("/passkeys/login/verify", "post"),
        ("/mfa/passkey/options", "post"),
    ):
        found = next(
            (p for p in paths if p.replace("{passkeyId}", "{id}").replace("{passkey_id}", "{id}") == path), None
        )
        assert found is not None and method in paths[found], (path, method)
