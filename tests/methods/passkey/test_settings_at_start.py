"""Where passkeys work comes from settings only: an RP ID that is not a bare domain, or an origin
that is plain http away from localhost or not on the RP ID, stops the process at start naming
the variable; the RP ID and origins given are the ones checked, whatever the request's Host or
Origin says; a loopback public URL means `localhost`; a public URL on another IP address and no
RP ID turns passkeys off (404 on every passkey endpoint, never offered as a second step)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.app import ClientFactory
from tests.support.http import STRONG_PASSWORD, bearer
from tests.support.passkeys import (
    account,
    add_passkey,
    assert_problem,
    begin,
    finish,
    login_options,
    login_verify,
    mfa_account_with_passkey,
    passkey_login,
)
from tests.support.settings import SECRET, assert_stops_naming
from tests.support.webauthn import SoftAuthenticator

BASE = {"JWT_SECRET": SECRET, "AUTHGATE_PUBLIC_URL": "https://example.com"}

REFUSED: list[tuple[str, dict[str, str], str]] = [
    ("rp-id-scheme", {"AUTHGATE_PASSKEY_RP_ID": "https://example.com"}, "AUTHGATE_PASSKEY_RP_ID"),
    ("rp-id-port", {"AUTHGATE_PASSKEY_RP_ID": "example.com:8443"}, "AUTHGATE_PASSKEY_RP_ID"),
    ("rp-id-path", {"AUTHGATE_PASSKEY_RP_ID": "example.com/login"}, "AUTHGATE_PASSKEY_RP_ID"),
    ("rp-id-ipv4", {"AUTHGATE_PASSKEY_RP_ID": "203.0.113.5"}, "AUTHGATE_PASSKEY_RP_ID"),
    ("rp-id-loopback", {"AUTHGATE_PASSKEY_RP_ID": "127.0.0.1"}, "AUTHGATE_PASSKEY_RP_ID"),
    ("rp-id-ipv6", {"AUTHGATE_PASSKEY_RP_ID": "::1"}, "AUTHGATE_PASSKEY_RP_ID"),
    (
        "origin-http",
        {"AUTHGATE_PASSKEY_RP_ID": "example.com", "AUTHGATE_PASSKEY_ORIGINS": "http://app.example.com"},
        "AUTHGATE_PASSKEY_ORIGINS",
    ),
    (
        "origin-elsewhere",
        {
            "AUTHGATE_PASSKEY_RP_ID": "example.com",
            "AUTHGATE_PASSKEY_ORIGINS": "https://example.com,https://evil.example",
        },
        "AUTHGATE_PASSKEY_ORIGINS",
    ),
    (
        "origin-suffix-not-subdomain",
        {"AUTHGATE_PASSKEY_RP_ID": "example.com", "AUTHGATE_PASSKEY_ORIGINS": "https://notexample.com"},
        "AUTHGATE_PASSKEY_ORIGINS",
    ),
    (
        "origin-localhost-under-other-rp",
        {"AUTHGATE_PASSKEY_RP_ID": "example.com", "AUTHGATE_PASSKEY_ORIGINS": "http://localhost:5173"},
        "AUTHGATE_PASSKEY_ORIGINS",
    ),
    ("origin-default-rp", {"AUTHGATE_PASSKEY_ORIGINS": "https://app.other.example"}, "AUTHGATE_PASSKEY_ORIGINS"),
]


@pytest.mark.parametrize(("env", "name"), [(e, n) for _, e, n in REFUSED], ids=[i for i, _, _ in REFUSED])
def test_a_bad_relying_party_stops_the_process_naming_the_variable(env: dict[str, str], name: str) -> None:
    assert_stops_naming({**BASE, **env}, name)


async def test_the_relying_party_comes_from_settings_not_the_request(make_client: ClientFactory) -> None:
    settings: dict[str, Any] = {
        "passkey_rp_id": "example.com",
        "passkey_rp_name": "Example Sign-in",
        "passkey_origins": "https://example.com,https://app.example.com",
    }
    async with make_client(**settings) as client:
        ada = await account(client)
        spoof = {"Host": "evil.example", "Origin": "https://evil.example", "X-Forwarded-Host": "evil.example"}
        started = await begin(client, {**ada.headers, **spoof})
        assert started["options"]["rp"] == {"id": "example.com", "name": "Example Sign-in"}
        on_app = SoftAuthenticator("https://app.example.com")
        made = await finish(client, ada.headers, started["challengeId"], on_app.create(started["options"]))
        assert made.status_code == 201, made.text
        # The tests' own origin is not an allowed one here, nor is the request's Host.
        for origin in ("http://testserver", "https://evil.example"):
            started = await begin(client, ada.headers)
            other = SoftAuthenticator(origin).create(started["options"])
            refused = await finish(client, ada.headers, started["challengeId"], other)
            assert_problem(refused, 400, "validation_failed")
        signing_in = await client.post("/passkeys/login/options", headers=spoof)
        assert signing_in.status_code == 200, signing_in.text
        assert signing_in.json()["options"]["rpId"] == "example.com"
        assert (await passkey_login(client, on_app)).status_code == 200
        on_root = SoftAuthenticator("https://example.com")
        on_root.adopt(on_app.only)
        assert (await passkey_login(client, on_root)).status_code == 200
        # The same credential used from the tests' origin, with a matching RP ID hash: refused.
        stray = SoftAuthenticator("http://testserver")
        stray.adopt(on_app.only)
        assert_problem(await passkey_login(client, stray), 401, "invalid_credentials")


async def test_a_list_of_origins_is_taken_too(make_client: ClientFactory) -> None:
    async with make_client(passkey_rp_id="example.com", passkey_origins=["https://login.example.com"]) as client:
        ada = await account(client)
        await add_passkey(client, ada, SoftAuthenticator("https://login.example.com"))


async def test_by_default_the_public_url_is_the_relying_party(client: httpx.AsyncClient) -> None:
    ada = await account(client)
    started = await begin(client, ada.headers)
    assert started["options"]["rp"]["id"] == "testserver"
    await add_passkey(client, ada)
    # Host headers naming another site change nothing.
    started = await client.post("/passkeys/login/options", headers={"Host": "evil.example"})
    assert started.json()["options"]["rpId"] == "testserver"


async def test_a_loopback_public_url_means_localhost(make_client: ClientFactory) -> None:
    async with make_client(public_url="http://127.0.0.1:8000") as client:
        ada = await account(client)
        started = await begin(client, ada.headers)
        assert started["options"]["rp"]["id"] == "localhost"
        refused = await finish(
            client,
            ada.headers,
            started["challengeId"],
            SoftAuthenticator("http://127.0.0.1:8000").create(started["options"]),
        )
        assert_problem(refused, 400, "validation_failed")
        device = SoftAuthenticator("http://localhost:8000")
        await add_passkey(client, ada, device)
        assert (await passkey_login(client, device)).status_code == 200


async def test_a_public_url_on_an_ip_address_turns_passkeys_off(make_client: ClientFactory) -> None:
    async with make_client() as client:  # made while passkeys work, on the same database
        ada, device = await mfa_account_with_passkey(client)
        bob = await account(client, "bob@example.com")
        await add_passkey(client, bob)
        started = await login_options(client)
    async with make_client(public_url="http://203.0.113.10:8000") as client:
        # Tokens name their issuer, the public URL: Bob signs in again on this one.
        login = await client.post("/login", json={"email": bob.email, "password": STRONG_PASSWORD})
        assert login.status_code == 200, login.text
        client.cookies.clear()
        headers = bearer(login.json()["accessToken"])
        for method, path, body in (
            ("POST", "/passkeys/register/options", None),
            ("POST", "/passkeys/register/verify", {"challengeId": "x", "credential": {}}),
            ("GET", "/passkeys", None),
            ("PUT", "/passkeys/x", {"name": "x"}),
            ("DELETE", "/passkeys/x", None),
        ):
            assert_problem(await client.request(method, path, json=body, headers=headers), 404, "not_found")
        assert_problem(await client.post("/passkeys/login/options"), 404, "not_found")
        assertion = bob.device.get(started["options"])
        assert_problem(await login_verify(client, started["challengeId"], assertion), 404, "not_found")
        pending = await client.post("/login", json=ada.login_body())
        body = assert_problem(pending, 401, "mfa_required")
        assert body["mfaMethods"] == ["totp", "recovery"]
        assert_problem(await client.post("/mfa/passkey/options", json={"mfaToken": body["mfaToken"]}), 404, "not_found")
        assert device.only  # the authenticator still holds it; the server just takes none
