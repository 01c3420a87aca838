"""Adding a passkey over HTTP: the creation options a page hands the browser, the registration
the software authenticator makes from them, what is stored and answered, and every refusal of
a registration (its challenge, its checks, a second copy of a credential, the limit, the name)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.support.app import ClientFactory, sql
from tests.support.http import bearer
from tests.support.mfa import enrol
from tests.support.passkeys import (
    PASSKEY_FIELDS,
    ZERO_AAGUID,
    Account,
    account,
    add_passkey,
    assert_problem,
    audit,
    begin,
    events,
    expire_challenges,
    finish,
    login_options,
    passkey_count,
    passkeys_of,
    register_options,
    stored,
)
from tests.support.webauthn import SoftAuthenticator, b64, unb64

SYNCED_AAGUID = "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4"


@pytest.fixture
async def ada(client: httpx.AsyncClient) -> Account:
    return await account(client, "ada@example.com", name="Ada Lovelace")


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# --- the creation options ---------------------------------------------------------------------


async def test_creation_options_describe_the_relying_party_and_the_account(
    client: httpx.AsyncClient, ada: Account
) -> None:
    started = await begin(client, ada.headers)
    assert set(started) == {"challengeId", "options", "expiresAt"}
    assert isinstance(started["challengeId"], str) and len(started["challengeId"]) >= 22
    lifetime = parse_time(started["expiresAt"]) - datetime.now(UTC)
    assert 240 <= lifetime.total_seconds() <= 301, started["expiresAt"]
    options = started["options"]
    assert options["rp"] == {"id": "testserver", "name": "authgate"}
    handle = unb64(options["user"]["id"])
    assert len(handle) == 32 and "=" not in options["user"]["id"]
    assert ada.user_id not in options["user"]["id"] and handle != ada.user_id.encode()
    assert options["user"]["name"] == "ada@example.com"
    assert options["user"]["displayName"] == "Ada Lovelace"
    assert len(unb64(options["challenge"])) >= 32
    algorithms = {p["alg"] for p in options["pubKeyCredParams"]}
    assert {-7, -8, -257} <= algorithms
    assert all(p["type"] == "public-key" for p in options["pubKeyCredParams"])
    assert options["excludeCredentials"] == []
    selection = options["authenticatorSelection"]
    assert selection["residentKey"] == "required" and selection["requireResidentKey"] is True
    assert selection["userVerification"] == "required"
    assert options["attestation"] == "none"
    assert options["timeout"] == 300000
    stored_handle = await sql(client, "SELECT passkey_handle FROM users WHERE id = :u", u=ada.user_id)
    assert stored_handle == [(options["user"]["id"],)]


async def test_the_user_handle_stays_and_added_passkeys_are_excluded(client: httpx.AsyncClient, ada: Account) -> None:
    first = (await begin(client, ada.headers))["options"]
    passkey = await add_passkey(client, ada)
    second = await begin(client, ada.headers)
    options = second["options"]
    assert options["user"]["id"] == first["user"]["id"]
    assert options["challenge"] != first["challenge"]
    assert [c["id"] for c in options["excludeCredentials"]] == [passkey["credentialId"]]
    assert sorted(options["excludeCredentials"][0]["transports"]) == ["hybrid", "internal"]
    # A browser holding an excluded credential would refuse; the page learns it before the server does.
    assert ada.device.only.user_handle == unb64(first["user"]["id"])


async def test_each_account_has_its_own_user_handle(client: httpx.AsyncClient, ada: Account) -> None:
    bob = await account(client, "bob@example.com")
    handles = {(await begin(client, who.headers))["options"]["user"]["id"] for who in (ada, bob)}
    assert len(handles) == 2


async def test_the_display_name_falls_back_to_the_email(client: httpx.AsyncClient) -> None:
    bob = await account(client, "bob@example.com")
    options = (await begin(client, bob.headers))["options"]
    assert options["user"]["name"] == "bob@example.com" and options["user"]["displayName"] == "bob@example.com"


# --- a registration accepted --------------------------------------------------------------------


async def test_a_registration_is_answered_201_with_the_passkey(client: httpx.AsyncClient, ada: Account) -> None:
    started = await begin(client, ada.headers)
    made = await finish(client, ada.headers, started["challengeId"], ada.device.create(started["options"]))
    assert made.status_code == 201, made.text
    passkey = made.json()
    assert set(passkey) == PASSKEY_FIELDS
    held = ada.device.only
    assert passkey["credentialId"] == held.id
    assert passkey["name"] == "Passkey"
    assert passkey["lastUsedAt"] is None
    assert passkey["aaguid"] == ZERO_AAGUID
    assert passkey["backupEligible"] is False and passkey["backedUp"] is False
    assert sorted(passkey["transports"]) == ["hybrid", "internal"]
    assert abs((parse_time(passkey["createdAt"]) - datetime.now(UTC)).total_seconds()) < 60
    assert passkey["id"] != passkey["credentialId"] and len(passkey["id"]) == 36
    row = await stored(client, held.id)
    assert row is not None and row["user_id"] == ada.user_id and row["sign_count"] == 0
    # Neither the public key nor the counter is ever answered.
    cose = held.public_key_cose
    for text in (made.text, (await client.get("/passkeys", headers=ada.headers)).text):
        assert b64(cose) not in text and base64.b64encode(cose).decode() not in text
        assert "publicKey" not in text and "signCount" not in text and "sign_count" not in text


async def test_a_synced_passkey_keeps_its_flags_and_aaguid(client: httpx.AsyncClient, ada: Account) -> None:
    device = SoftAuthenticator(backup_eligible=True, backed_up=True, aaguid=SYNCED_AAGUID, counter_step=0)
    passkey = await add_passkey(client, ada, device, name="Phone")
    assert passkey["name"] == "Phone"
    assert passkey["backupEligible"] is True and passkey["backedUp"] is True
    assert passkey["aaguid"] == SYNCED_AAGUID
    row = await stored(client, device.only.id)
    assert row is not None and row["backup_eligible"] is True and row["backed_up"] is True


async def test_adding_is_audited_and_emitted_without_the_key(client: httpx.AsyncClient, ada: Account) -> None:
    device = SoftAuthenticator(backup_eligible=True, backed_up=True, aaguid=SYNCED_AAGUID)
    passkey = await add_passkey(client, ada, device, name="Laptop")
    entries = await audit(client, "passkey.added", ada.user_id)
    assert len(entries) == 1
    data = entries[0]["data"]
    assert data["passkey"] == passkey["id"] and data["name"] == "Laptop"
    assert data["aaguid"] == SYNCED_AAGUID and data["backupEligible"] is True
    emitted = await events(client, "passkey.added")
    assert len(emitted) == 1 and emitted[0]["userId"] == ada.user_id
    key = b64(device.only.public_key_cose)
    everything = str(await sql(client, "SELECT data FROM audit_log")) + str(
        await sql(client, "SELECT data FROM events")
    )
    assert key not in everything and base64.b64encode(device.only.public_key_cose).decode() not in everything


async def test_the_list_is_oldest_first_and_a_rename_is_not_audited(client: httpx.AsyncClient, ada: Account) -> None:
    first = await add_passkey(client, ada, name="First")
    second = await add_passkey(client, ada, SoftAuthenticator(), name="Second")
    listed = await passkeys_of(client, ada.headers)
    assert [p["id"] for p in listed] == [first["id"], second["id"]]
    assert all(set(p) == PASSKEY_FIELDS for p in listed)

    before = await sql(client, "SELECT count(*) FROM audit_log")
    renamed = await client.put(f"/passkeys/{second['id']}", headers=ada.headers, json={"name": "  Work key  "})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["id"] == second["id"] and renamed.json()["name"].strip() == "Work key"
    assert set(renamed.json()) == PASSKEY_FIELDS
    assert [p["name"].strip() for p in await passkeys_of(client, ada.headers)] == ["First", "Work key"]
    assert await sql(client, "SELECT count(*) FROM audit_log") == before


@pytest.mark.parametrize(
    "name",
    ["", "x" * 101, "bad\x00name", "line\nbreak", "bell\x07", 42, None],
    ids=["empty", "too-long", "nul", "newline", "bell", "number", "null"],
)
async def test_a_bad_name_is_refused_on_the_field(client: httpx.AsyncClient, ada: Account, name: Any) -> None:
    passkey = await add_passkey(client, ada, SoftAuthenticator())
    renamed = await client.put(f"/passkeys/{passkey['id']}", headers=ada.headers, json={"name": name})
    body = assert_problem(renamed, 400, "validation_failed")
    assert [e["field"] for e in body["errors"]] == ["name"]
    if name is None:
        return  # leaving the name out of a registration means the default
    started = await begin(client, ada.headers)
    made = await finish(
        client, ada.headers, started["challengeId"], SoftAuthenticator().create(started["options"]), name=name
    )
    body = assert_problem(made, 400, "validation_failed")
    assert [e["field"] for e in body["errors"]] == ["name"]
    assert await passkey_count(client, ada.user_id) == 1


async def test_a_name_of_100_characters_is_taken(client: httpx.AsyncClient, ada: Account) -> None:
    passkey = await add_passkey(client, ada, name="é" * 100)
    assert passkey["name"] == "é" * 100


# --- refusals of a registration -----------------------------------------------------------------

REGISTRATION_KNOBS = [
    ({"origin": "https://evil.example"}, "origin"),
    ({"origin": "http://testserver:8080"}, "origin-port"),
    ({"rp_id": "evil.example"}, "rp-id"),
    ({"client_type": "webauthn.get"}, "type"),
    ({"challenge": b64(b"\x00" * 32)}, "challenge"),
    ({"user_verified": False}, "no-uv"),
    ({"user_present": False}, "no-up"),
    ({"algorithm": -65535}, "algorithm"),
]


@pytest.mark.parametrize("knob", [k for k, _ in REGISTRATION_KNOBS], ids=[i for _, i in REGISTRATION_KNOBS])
async def test_a_registration_failing_a_check_is_refused_on_credential(
    client: httpx.AsyncClient, ada: Account, knob: dict[str, Any]
) -> None:
    started = await begin(client, ada.headers)
    made = await finish(
        client, ada.headers, started["challengeId"], ada.device.create(started["options"], keep=False, **knob)
    )
    body = assert_problem(made, 400, "validation_failed")
    assert [e["field"] for e in body["errors"]] == ["credential"]
    assert body["errors"][0]["message"]
    assert await passkey_count(client) == 0
    assert await audit(client, "passkey.added") == []


@pytest.mark.parametrize(
    "credential",
    [{}, "not an object", {"id": "x", "rawId": "x", "type": "public-key", "response": {}}, None],
    ids=["empty", "string", "no-response-fields", "null"],
)
async def test_a_malformed_credential_is_refused(client: httpx.AsyncClient, ada: Account, credential: Any) -> None:
    started = await begin(client, ada.headers)
    made = await finish(client, ada.headers, started["challengeId"], credential)
    body = assert_problem(made, 400, "validation_failed")
    assert "credential" in [e["field"] for e in body["errors"]]


async def test_a_credential_whose_id_differs_from_its_raw_id_is_refused(
    client: httpx.AsyncClient, ada: Account
) -> None:
    started = await begin(client, ada.headers)
    made = ada.device.create(started["options"], keep=False)
    made["id"] = b64(b"\x01" * 32)
    body = assert_problem(await finish(client, ada.headers, started["challengeId"], made), 400, "validation_failed")
    assert [e["field"] for e in body["errors"]] == ["credential"]


async def test_the_challenge_is_spent_by_its_first_verify(client: httpx.AsyncClient, ada: Account) -> None:
    """A replayed registration, and a good one after a refused one, both name a spent challenge."""
    started = await begin(client, ada.headers)
    made = ada.device.create(started["options"])
    assert (await finish(client, ada.headers, started["challengeId"], made)).status_code == 201
    assert_problem(await finish(client, ada.headers, started["challengeId"], made), 400, "invalid_token")

    started = await begin(client, ada.headers)
    bad = SoftAuthenticator().create(started["options"], user_verified=False)
    assert_problem(await finish(client, ada.headers, started["challengeId"], bad), 400, "validation_failed")
    good = SoftAuthenticator().create(started["options"])
    assert_problem(await finish(client, ada.headers, started["challengeId"], good), 400, "invalid_token")
    assert await passkey_count(client, ada.user_id) == 1


async def test_unknown_expired_foreign_and_other_purpose_challenges_are_invalid_tokens(
    client: httpx.AsyncClient, ada: Account
) -> None:
    bob = await account(client, "bob@example.com")
    # Unknown.
    started = await begin(client, ada.headers)
    credential = SoftAuthenticator().create(started["options"])
    for unknown in ("no-such-challenge", started["challengeId"][:-2] + "xx"):
        assert_problem(await finish(client, ada.headers, unknown, credential), 400, "invalid_token")
    # Issued to another account: bob's challenge does not register a passkey on ada's account,
    # nor ada's on bob's.
    for_bob = await begin(client, bob.headers)
    made = SoftAuthenticator().create(for_bob["options"])
    assert_problem(await finish(client, ada.headers, for_bob["challengeId"], made), 400, "invalid_token")
    # Of another purpose: a sign-in challenge.
    signing_in = await login_options(client)
    options = {**started["options"], "challenge": signing_in["options"]["challenge"]}
    made = SoftAuthenticator().create(options)
    assert_problem(await finish(client, ada.headers, signing_in["challengeId"], made), 400, "invalid_token")
    # Expired.
    late = await begin(client, ada.headers)
    await expire_challenges(client, "passkey_register")
    made = SoftAuthenticator().create(late["options"])
    assert_problem(await finish(client, ada.headers, late["challengeId"], made), 400, "invalid_token")
    assert await passkey_count(client) == 0


async def test_a_registered_credential_id_cannot_be_registered_again(client: httpx.AsyncClient, ada: Account) -> None:
    await add_passkey(client, ada)
    taken = ada.device.only.credential_id
    bob = await account(client, "bob@example.com")
    for who in (ada, bob):
        started = await begin(client, who.headers)
        again = SoftAuthenticator().create(started["options"], credential_id=taken)
        assert_problem(await finish(client, who.headers, started["challengeId"], again), 409, "passkey_exists")
    assert await passkey_count(client) == 1
    row = await stored(client, ada.device.only.id)
    assert row is not None and row["user_id"] == ada.user_id


async def test_twenty_passkeys_is_the_limit(client: httpx.AsyncClient, ada: Account) -> None:
    for n in range(20):
        await add_passkey(client, ada, SoftAuthenticator(), name=f"Key {n}")
    started = await begin(client, ada.headers)
    extra = SoftAuthenticator().create(started["options"])
    assert_problem(await finish(client, ada.headers, started["challengeId"], extra), 409, "passkey_limit")
    assert await passkey_count(client, ada.user_id) == 20
    # Another account is not affected.
    bob = await account(client, "bob@example.com")
    await add_passkey(client, bob)


# --- who may add one ----------------------------------------------------------------------------


async def test_every_passkey_endpoint_of_an_account_needs_a_sign_in(client: httpx.AsyncClient, ada: Account) -> None:
    passkey = await add_passkey(client, ada)
    for method, path, body in (
        ("POST", "/passkeys/register/options", None),
        ("POST", "/passkeys/register/verify", {"challengeId": "x", "credential": {}}),
        ("GET", "/passkeys", None),
        ("PUT", f"/passkeys/{passkey['id']}", {"name": "x"}),
        ("DELETE", f"/passkeys/{passkey['id']}", None),
    ):
        anonymous = await client.request(method, path, json=body)
        assert_problem(anonymous, 401, "invalid_token")
    assert await passkey_count(client) == 1


async def test_adding_needs_a_recent_proof(make_client: ClientFactory) -> None:
    async with make_client(reauth_max_age_seconds=0) as client:
        ada = await account(client)
        assert_problem(await register_options(client, ada.headers), 401, "reauthentication_required")
        wrong = await register_options(client, ada.headers, currentPassword="Not-The-Password-1")
        assert_problem(wrong, 401, "invalid_credentials")
        assert len(await audit(client, "user.login_failed", ada.user_id)) == 1
        started = await begin(client, ada.headers, currentPassword="Sturdy-Horse-42")
        made = await finish(client, ada.headers, started["challengeId"], ada.device.create(started["options"]))
        assert made.status_code == 201, made.text
        passkey = made.json()

        # Deleting: the same rule (the account keeps its password, so this is not its last way in).
        gone = await client.delete(f"/passkeys/{passkey['id']}", headers=ada.headers)
        assert_problem(gone, 401, "reauthentication_required")
        gone = await client.request(
            "DELETE", f"/passkeys/{passkey['id']}", headers=ada.headers, json={"currentPassword": "Sturdy-Horse-42"}
        )
        assert gone.status_code == 204, gone.text
        assert await passkey_count(client) == 0


async def test_with_a_second_factor_adding_needs_a_session_that_passed_it(client: httpx.AsyncClient) -> None:
    ada = await enrol(client)
    # The session from before the second factor was turned on did not pass it.
    refused = await register_options(client, ada.headers)
    assert refused.status_code == 401, refused.text
    assert refused.json()["code"] in {"reauthentication_required", "mfa_required"}
    assert await sql(client, "SELECT count(*) FROM one_time_secrets WHERE purpose = 'passkey_register'") == [(0,)]
    # A current code with the request is enough.
    with_code = await register_options(client, ada.headers, mfaCode=await ada.app.code())
    assert with_code.status_code == 200, with_code.text
    # So is a session that signed in with both factors.
    login = await client.post("/login", json=ada.login_body(mfaCode=await ada.app.code()))
    assert login.status_code == 200, login.text
    client.cookies.clear()
    both = bearer(login.json()["accessToken"])
    started = await begin(client, both)
    made = await finish(client, both, started["challengeId"], SoftAuthenticator().create(started["options"]))
    assert made.status_code == 201, made.text
