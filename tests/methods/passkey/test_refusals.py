"""Every way a passkey sign-in is refused: an assertion failing any check answers one and the
same 401 `invalid_credentials` and changes nothing stored; a spent, foreign, expired or unknown
challenge is 400 `invalid_token`; a cloned authenticator (its counter going backwards) is
reported; and the sign-in gate holds for passkeys as for passwords (disabled, locked, address
not verified), with refused assertions of a known credential counted toward lockout and unknown
credentials counted against nothing but the address's rate limit."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import update

from authgate.storage.models import User
from tests.support.app import ClientFactory, sql
from tests.support.http import STRONG_PASSWORD, bearer, from_address
from tests.support.mfa import enrol, mfa_token
from tests.support.passkeys import (
    Account,
    account,
    add_passkey,
    assert_problem,
    audit,
    begin,
    events,
    expire_challenges,
    login_options,
    login_verify,
    mfa_options,
    passkey_login,
    stored,
)
from tests.support.webauthn import OMIT, SoftAuthenticator, b64, unb64

PROBLEM_KEYS = ("type", "title", "status", "detail", "code")


@pytest.fixture
async def client(make_client: ClientFactory) -> Any:
    """Refusals alone: the account's lockout, which these tests would reach, is raised here
    (the tests of the gate set their own)."""
    async with make_client(lockout_threshold=100) as c:
        yield c


@pytest.fixture
async def ada(client: httpx.AsyncClient) -> Account:
    who = await account(client)
    await add_passkey(client, who)
    return who


def problem(response: httpx.Response) -> tuple[Any, ...]:
    body = response.json()
    return tuple(body.get(k) for k in PROBLEM_KEYS)


async def refused_body(client: httpx.AsyncClient, device: SoftAuthenticator) -> tuple[Any, ...]:
    """The body of a refusal everyone agrees on: an assertion signed by another key."""
    response = await passkey_login(client, device, forge=True)
    assert_problem(response, 401, "invalid_credentials")
    return problem(response)


ASSERTION_KNOBS: list[tuple[str, dict[str, Any]]] = [
    ("origin", {"origin": "https://evil.example"}),
    ("origin-scheme", {"origin": "https://testserver"}),
    ("origin-port", {"origin": "http://testserver:8000"}),
    ("rp-id", {"rp_id": "evil.example"}),
    ("rp-id-parent", {"rp_id": "example"}),
    ("type", {"client_type": "webauthn.create"}),
    ("challenge", {"challenge": b64(b"\x01" * 32)}),
    ("no-uv", {"user_verified": False}),
    ("no-up", {"user_present": False}),
    ("forged", {"forge": True}),
    ("counter-repeated", {"sign_count": 1}),
    ("counter-backwards", {"sign_count": 0}),
    ("backup-eligible-flipped", {"backup_eligible": True}),
    ("backed-up-without-eligibility", {"backed_up": True}),
    ("foreign-user-handle", {"user_handle": b"\x05" * 32}),
    ("unknown-credential", {"credential_id": b"\x09" * 32}),
]


@pytest.mark.parametrize("knob", [k for _, k in ASSERTION_KNOBS], ids=[i for i, _ in ASSERTION_KNOBS])
async def test_an_assertion_failing_a_check_is_one_refusal_and_changes_nothing(
    client: httpx.AsyncClient, ada: Account, knob: dict[str, Any]
) -> None:
    assert (await passkey_login(client, ada.device)).status_code == 200  # stored counter: 1
    held = ada.device.only
    before = await stored(client, held.id)
    failures_before = len(await audit(client, "user.login_failed", ada.user_id))
    copy = SoftAuthenticator()
    copy.adopt(held.clone())
    reference = await refused_body(client, copy)
    failures_before += 1

    response = await passkey_login(client, ada.device, **knob)
    assert_problem(response, 401, "invalid_credentials")
    assert problem(response) == reference
    assert "accessToken" not in response.json() and "set-cookie" not in response.headers
    assert await stored(client, held.id) == before
    failures = await audit(client, "user.login_failed", ada.user_id)
    if "credential_id" in knob:
        assert len(failures) == failures_before  # an unknown credential names no account
    else:
        assert len(failures) == failures_before + 1
        assert failures[-1]["data"]["method"] == "passkey"
    # The genuine authenticator still signs in afterwards.
    assert (await passkey_login(client, ada.device)).status_code == 200


async def test_a_malformed_credential_is_refused_without_a_500(client: httpx.AsyncClient, ada: Account) -> None:
    for credential in (
        {},
        {"id": ada.device.only.id},
        {"id": ada.device.only.id, "rawId": ada.device.only.id, "type": "public-key", "response": {}},
        "string",
        [],
    ):
        started = await login_options(client)
        response = await login_verify(client, started["challengeId"], credential)  # type: ignore[arg-type]
        assert response.status_code in (400, 401), (credential, response.text)
        assert response.json()["code"] in {"validation_failed", "invalid_credentials"}


async def test_another_accounts_user_handle_is_refused(client: httpx.AsyncClient, ada: Account) -> None:
    bob = await account(client, "bob@example.com")
    await add_passkey(client, bob)
    bobs_handle = bob.device.only.user_handle
    assert bobs_handle != ada.device.only.user_handle
    response = await passkey_login(client, ada.device, user_handle=bobs_handle)
    assert_problem(response, 401, "invalid_credentials")
    # Nor does Bob's handle on Ada's credential sign Bob in, the other way round.
    response = await passkey_login(client, bob.device, user_handle=ada.device.only.user_handle)
    assert_problem(response, 401, "invalid_credentials")


async def test_a_deleted_passkey_signs_no_one_in(client: httpx.AsyncClient, ada: Account) -> None:
    passkey_id = (await client.get("/passkeys", headers=ada.headers)).json()[0]["id"]
    assert (await client.delete(f"/passkeys/{passkey_id}", headers=ada.headers)).status_code == 204
    assert_problem(await passkey_login(client, ada.device), 401, "invalid_credentials")


# --- challenges ----------------------------------------------------------------------------------


async def test_a_captured_assertion_cannot_be_replayed(client: httpx.AsyncClient, ada: Account) -> None:
    started = await login_options(client)
    assertion = ada.device.get(started["options"])
    first = await login_verify(client, started["challengeId"], assertion, options={"setCookie": False})
    assert first.status_code == 200, first.text
    again = await login_verify(client, started["challengeId"], assertion, options={"setCookie": False})
    assert_problem(again, 400, "invalid_token")


async def test_a_refused_verify_spends_its_challenge(client: httpx.AsyncClient, ada: Account) -> None:
    started = await login_options(client)
    bad = ada.device.get(started["options"], user_verified=False)
    assert_problem(await login_verify(client, started["challengeId"], bad), 401, "invalid_credentials")
    good = ada.device.get(started["options"])
    assert_problem(await login_verify(client, started["challengeId"], good), 400, "invalid_token")


async def test_unknown_expired_and_other_purpose_challenges_are_invalid_tokens(
    client: httpx.AsyncClient, ada: Account
) -> None:
    started = await login_options(client)
    good = ada.device.get(started["options"])
    for unknown in ("no-such-challenge", started["challengeId"][:-2] + "zz"):
        assert_problem(await login_verify(client, unknown, good), 400, "invalid_token")
    # A challenge to add a passkey is not a sign-in challenge, even with a matching assertion.
    adding = await begin(client, ada.headers)
    options = {"challenge": adding["options"]["challenge"], "rpId": "testserver", "allowCredentials": []}
    response = await login_verify(client, adding["challengeId"], ada.device.get(options))
    assert_problem(response, 400, "invalid_token")
    # Nor is a second-step challenge.
    carol = await enrol(client, "carol@example.com")
    await add_passkey(
        client,
        Account(carol.email, carol.user_id, carol.token, SoftAuthenticator()),
        proof={"mfaCode": await carol.app.code()},
    )
    second_step = (await mfa_options(client, await mfa_token(client, carol))).json()
    options = {**second_step["options"], "allowCredentials": []}
    assert_problem(
        await login_verify(client, second_step["challengeId"], ada.device.get(options)), 400, "invalid_token"
    )
    # The one still unspent works.
    assert (await login_verify(client, started["challengeId"], good)).status_code == 200
    # Expired.
    late = await login_options(client)
    await expire_challenges(client, "passkey_login")
    assert_problem(
        await login_verify(client, late["challengeId"], ada.device.get(late["options"])), 400, "invalid_token"
    )


async def test_a_malformed_body_is_a_validation_problem(client: httpx.AsyncClient) -> None:
    for body in ({}, {"challengeId": "x"}, {"credential": {}}, {"challengeId": 5, "credential": {}}):
        response = await client.post("/passkeys/login/verify", json=body)
        assert_problem(response, 400, "validation_failed")


# --- a cloned authenticator ----------------------------------------------------------------------


async def test_a_cloned_authenticator_is_refused_and_reported(client: httpx.AsyncClient, ada: Account) -> None:
    held = ada.device.only
    clone = SoftAuthenticator().adopt(held.clone())  # copied at counter 0
    for _ in range(3):
        assert (await passkey_login(client, ada.device)).status_code == 200
    before = await stored(client, held.id)
    assert before is not None and before["sign_count"] == 3

    response = await passkey_login(client, SoftAuthenticator(), clone)  # presents counter 1
    assert_problem(response, 401, "invalid_credentials")
    assert await stored(client, held.id) == before  # nothing stored changes
    reported = await audit(client, "passkey.clone_suspected", ada.user_id)
    assert len(reported) == 1
    passkey_id = before["id"]
    assert reported[0]["data"]["passkey"] == passkey_id
    assert reported[0]["data"]["storedSignCount"] == 3 and reported[0]["data"]["signCount"] == 1
    emitted = await events(client, "passkey.clone_suspected")
    assert len(emitted) == 1 and emitted[0]["userId"] == ada.user_id
    assert emitted[0].get("storedSignCount", 3) == 3 and emitted[0].get("signCount", 1) == 1
    # No session came of it; the genuine authenticator goes on.
    sessions = await sql(client, "SELECT count(*) FROM sessions WHERE user_id = :u", u=ada.user_id)
    assert sessions[0][0] == 1 + 3  # register's, then the three sign-ins
    assert (await passkey_login(client, ada.device)).status_code == 200


async def test_a_counter_that_was_counting_cannot_fall_to_zero(client: httpx.AsyncClient, ada: Account) -> None:
    assert (await passkey_login(client, ada.device)).status_code == 200
    assert_problem(await passkey_login(client, ada.device, sign_count=0), 401, "invalid_credentials")
    reported = await audit(client, "passkey.clone_suspected", ada.user_id)
    assert [(r["data"]["storedSignCount"], r["data"]["signCount"]) for r in reported] == [(1, 0)]


# --- the sign-in gate ----------------------------------------------------------------------------


async def test_a_disabled_account_is_refused(client: httpx.AsyncClient, ada: Account) -> None:
    await sql(client, update(User).where(User.id == ada.user_id).values(disabled=True))
    assert_problem(await passkey_login(client, ada.device), 403, "account_disabled")


async def test_refused_assertions_of_a_known_credential_lock_the_account(make_client: ClientFactory) -> None:
    async with make_client(lockout_threshold=3) as client:
        ada = await account(client)
        await add_passkey(client, ada)
        for _ in range(3):
            refused = await passkey_login(client, ada.device, forge=True)
            assert refused.status_code in (401, 429), refused.text
        locked = await passkey_login(client, ada.device)
        assert_problem(locked, 429, "account_locked")
        assert locked.headers.get("retry-after")
        password = await client.post("/login", json={"email": ada.email, "password": STRONG_PASSWORD})
        assert_problem(password, 429, "account_locked")
        assert len(await audit(client, "user.locked", ada.user_id)) == 1


async def test_unknown_credentials_count_against_no_account(make_client: ClientFactory) -> None:
    async with make_client(lockout_threshold=3) as client:
        ada = await account(client)
        await add_passkey(client, ada)
        for n in range(6):
            unknown = await passkey_login(client, ada.device, credential_id=bytes([n + 1]) * 32)
            assert_problem(unknown, 401, "invalid_credentials")
        assert await audit(client, "user.login_failed") == []
        assert (await passkey_login(client, ada.device)).status_code == 200


async def test_an_unverified_address_is_refused_when_verification_is_required(make_client: ClientFactory) -> None:
    async with make_client(require_email_verification=True) as client:
        registered = await client.post("/register", json={"email": "ada@example.com", "password": STRONG_PASSWORD})
        assert registered.status_code == 201, registered.text
        user_id = registered.json()["user"]["id"]
        await sql(client, update(User).where(User.id == user_id).values(email_verified=True))
        login = await client.post("/login", json={"email": "ada@example.com", "password": STRONG_PASSWORD})
        assert login.status_code == 200, login.text
        client.cookies.clear()
        ada = Account("ada@example.com", user_id, login.json()["accessToken"], SoftAuthenticator())
        await add_passkey(client, ada)
        assert (await passkey_login(client, ada.device)).status_code == 200
        await sql(client, update(User).where(User.id == user_id).values(email_verified=False))
        assert_problem(await passkey_login(client, ada.device), 403, "email_not_verified")


async def test_the_address_rate_limit_covers_passkey_sign_in(make_client: ClientFactory) -> None:
    async with make_client(rate_limits="passkey.ip=2/minute") as client:
        for _ in range(2):
            assert (await client.post("/passkeys/login/options")).status_code == 200
        limited = await client.post("/passkeys/login/options")
        assert_problem(limited, 429, "rate_limited")
        assert limited.headers.get("retry-after")
        verify = await login_verify(client, "x", {})
        assert_problem(verify, 429, "rate_limited")
        async with from_address(client, "198.51.100.9") as elsewhere:
            assert (await elsewhere.post("/passkeys/login/options")).status_code == 200


async def test_the_stored_handle_is_the_one_the_authenticator_holds(client: httpx.AsyncClient, ada: Account) -> None:
    """The account's handle is what the authenticator was given, and a sign-in without it in the
    response still finds the account through the credential."""
    handle = ada.device.only.user_handle
    stored_handle = await sql(client, "SELECT passkey_handle FROM users WHERE id = :u", u=ada.user_id)
    assert unb64(stored_handle[0][0]) == handle
    response = await passkey_login(client, ada.device, user_handle=OMIT)
    assert response.status_code == 200, response.text
    me = await client.get("/user", headers=bearer(response.json()["accessToken"]))
    assert me.json()["id"] == ada.user_id
