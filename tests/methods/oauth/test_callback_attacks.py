"""Attacks on the callback: the state (missing, foreign, replayed, raced, for another
provider, expired), the identity token (nonce, audience, issuer, signature, algorithm,
expiry), and a provider that refuses or breaks. None of them may sign anyone in, create an
account, or answer 500."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.support.app import sql
from tests.support.oidc_provider import TestProvider
from tests.support.social import (
    APP,
    SocialClientFactory,
    callback_from_provider,
    oidc_provider,
    query_of,
    sign_in,
    through_provider,
)


async def _callback_url(client: httpx.AsyncClient, **params: str) -> str:
    """Start a flow in `client`'s browser and come back from the provider: the callback URL
    (with a fresh code and the state), not yet opened."""
    start = await client.get("/oauth/acme", params=params)
    return await callback_from_provider(start.headers["location"])


async def _nothing_signed_in(client: httpx.AsyncClient) -> None:
    assert (await sql(client, "SELECT count(*) FROM users"))[0][0] == 0
    assert (await sql(client, "SELECT count(*) FROM sessions"))[0][0] == 0


@pytest.fixture
def alice(op: TestProvider) -> TestProvider:
    op.login_as("alice-1", email="alice@example.com", email_verified=True, name="Alice")
    return op


# --- the state -----------------------------------------------------------------------------


async def test_a_callback_without_state_is_refused(social: SocialClientFactory, alice: TestProvider) -> None:
    async with social() as client:
        url = await _callback_url(client)
        code = query_of(url)["code"]
        for params in ({"code": code}, {"code": code, "state": ""}, {"code": code, "state": "x" * 600}):
            response = await client.get("/oauth/acme/callback", params=params)
            assert response.status_code == 400, params
            assert response.json()["code"] in {"invalid_state", "validation_failed"}
        await _nothing_signed_in(client)


async def test_a_state_from_another_browser_is_refused(social: SocialClientFactory, alice: TestProvider) -> None:
    """Login CSRF: an attacker starts a flow and makes the victim's browser finish it. The
    victim's browser has no binding cookie, or the binding of its own flows: refused either way."""
    async with social() as client:
        attackers = await _callback_url(client)  # the attacker's flow, in the attacker's browser
        client.cookies = httpx.Cookies()  # the victim's browser
        refused = await client.get(attackers)
        assert refused.status_code == 400 and refused.json()["code"] == "invalid_state"
        await client.get("/oauth/acme")  # the victim's own flow gives the browser a binding
        assert "oauthBrowser" in client.cookies
        refused = await client.get(attackers)
        assert refused.status_code == 400 and refused.json()["code"] == "invalid_state"
        await _nothing_signed_in(client)
        # Nor could the victim's browser spoil the attacker's state: it is still unused.
        used = await sql(client, "SELECT count(*) FROM one_time_secrets WHERE used_at IS NOT NULL")
        assert used[0][0] == 0


async def test_a_replayed_state_is_refused(social: SocialClientFactory, alice: TestProvider) -> None:
    async with social() as client:
        url = await _callback_url(client)
        assert (await client.get(url)).status_code == 200
        replay = await client.get(url)
        assert replay.status_code == 400 and replay.json()["code"] == "invalid_state"
        assert (await sql(client, "SELECT count(*) FROM sessions"))[0][0] == 1


async def test_a_state_is_used_once_under_parallel_callbacks(social: SocialClientFactory, alice: TestProvider) -> None:
    async with social() as client:
        url = await _callback_url(client)
        answers = await asyncio.gather(*(client.get(url) for _ in range(8)))
        statuses = sorted(a.status_code for a in answers)
        assert statuses == [200] + [400] * 7, statuses
        assert (await sql(client, "SELECT count(*) FROM users"))[0][0] == 1
        assert (await sql(client, "SELECT count(*) FROM sessions"))[0][0] == 1


async def test_a_state_only_works_for_the_provider_that_issued_it(
    social: SocialClientFactory, op: TestProvider
) -> None:
    op.login_as("alice-1", email="alice@example.com", email_verified=True)
    providers = {"acme": oidc_provider(op, "acme"), "other": oidc_provider(op, "other", client_id="other-client")}
    async with social(providers=providers) as client:
        url = await _callback_url(client)
        swapped = url.replace("/oauth/acme/callback", "/oauth/other/callback")
        refused = await client.get(swapped)
        assert refused.status_code == 400 and refused.json()["code"] == "invalid_state"
        await _nothing_signed_in(client)


async def test_an_expired_state_is_refused(social: SocialClientFactory, alice: TestProvider) -> None:
    async with social() as client:
        url = await _callback_url(client)
        await sql(client, "UPDATE one_time_secrets SET expires_at = created_at WHERE purpose = 'oauth_state'")
        refused = await client.get(url)
        assert refused.status_code == 400 and refused.json()["code"] == "invalid_state"
        await _nothing_signed_in(client)


async def test_a_browser_may_run_two_flows_at_once(social: SocialClientFactory, alice: TestProvider) -> None:
    """Two tabs: the second start keeps the browser's binding, so the first still finishes."""
    async with social() as client:
        first = await _callback_url(client)
        second = await _callback_url(client)
        assert (await client.get(first)).status_code == 200
        assert (await client.get(second)).status_code == 200


async def test_a_bad_state_shows_a_page_to_a_browser(social: SocialClientFactory, alice: TestProvider) -> None:
    async with social() as client:
        page = await client.get(
            "/oauth/acme/callback", params={"state": "nope", "code": "x"}, headers={"Accept": "text/html"}
        )
        assert page.status_code == 400
        assert page.headers["content-type"].startswith("text/html")
        assert "Start again" in page.text


async def test_nothing_from_the_state_is_stored_in_clear(social: SocialClientFactory, alice: TestProvider) -> None:
    async with social() as client:
        start = await client.get("/oauth/acme")
        sent = query_of(start.headers["location"])
        rows = await sql(client, "SELECT digest, data, redirect_to FROM one_time_secrets")
        stored = " ".join(str(v) for row in rows for v in row)
        for secret in (sent["state"], sent["nonce"], client.cookies["oauthBrowser"]):
            assert secret not in stored


# --- the identity token --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("knob", "args"),
    [
        ("tamper", {"nonce": "an-old-nonce"}),
        ("tamper", {"nonce": None}),
        ("tamper", {"aud": "someone-else"}),
        ("tamper", {"aud": ["someone-else", "authgate-test"]}),  # several audiences: azp must be us
        ("tamper", {"iss": "http://127.0.0.1:1"}),
        ("tamper", {"exp": 1_000_000}),
        ("tamper", {"sub": None}),
        ("sign_next_with_foreign_key", {}),
        ("next_alg_none", {}),
        ("omit_id_token_next", {}),
    ],
    ids=lambda v: str(v),
)
async def test_an_identity_token_that_does_not_verify_opens_nothing(
    social: SocialClientFactory, alice: TestProvider, knob: str, args: dict[str, Any]
) -> None:
    async with social() as client:
        getattr(alice, knob)(**args)
        refused = await sign_in(client)
        assert refused.status_code == 400, refused.text
        assert refused.json()["code"] == "oauth_failed"
        await _nothing_signed_in(client)
        # The same flow, honest this time, works: the refusal was about the token.
        assert (await sign_in(client)).status_code == 200


async def test_a_rotated_provider_key_is_fetched_again(social: SocialClientFactory, alice: TestProvider) -> None:
    async with social() as client:
        assert (await sign_in(client)).status_code == 200
        alice.rotate_key()  # authgate holds the old key set; the token names a new kid
        assert (await sign_in(client)).status_code == 200


async def test_what_a_provider_says_cannot_reach_the_database_as_an_error(
    social: SocialClientFactory, op: TestProvider
) -> None:
    """A NUL byte is a 500 on PostgreSQL if unchecked; an over-long value overflows a column."""
    async with social() as client:
        for sub in ("x" * 300, "bad\x00sub", "rtl\u202esub"):
            op.login_as(sub, email="eve@example.com", email_verified=True)
            refused = await sign_in(client)
            assert refused.status_code == 400 and refused.json()["code"] == "oauth_failed", sub
        await _nothing_signed_in(client)
        op.login_as("eve-1", email="eve\x00@example.com", email_verified=True, name="Eve\x00\u202e" + "e" * 300)
        no_email = await sign_in(client)
        assert no_email.status_code == 400 and no_email.json()["code"] == "oauth_failed"
        op.login_as("eve-1", email="eve@example.com", email_verified=True, name="Eve\x00\u202e" + "e" * 300)
        done = await sign_in(client)
        assert done.status_code == 200, done.text
        assert done.json()["user"]["name"] == "Eve" + "e" * 97


# --- the provider refuses or breaks --------------------------------------------------------


async def test_denied_consent_is_a_clear_error_or_a_redirect_with_its_code(
    social: SocialClientFactory, alice: TestProvider
) -> None:
    async with social() as client:
        alice.deny_next()
        denied = await sign_in(client)
        assert denied.status_code == 400 and denied.json()["code"] == "oauth_denied"
        assert "access_denied" in denied.json()["detail"]
        alice.deny_next()
        redirected = await sign_in(client, redirectTo=f"{APP}/login")
        assert redirected.status_code == 302
        assert query_of(redirected.headers["location"])["error"] == "oauth_denied"
        assert redirected.headers["location"].startswith(f"{APP}/login?")
        await _nothing_signed_in(client)


async def test_a_refused_code_is_a_clear_error(social: SocialClientFactory, alice: TestProvider) -> None:
    async with social() as client:
        url = await _callback_url(client)
        tampered = url.replace(f"code={query_of(url)['code']}", "code=not-a-real-code")
        refused = await client.get(tampered)
        assert refused.status_code == 400 and refused.json()["code"] == "oauth_failed"
        alice.fail_token_endpoint(400, {"error": "invalid_grant"})
        assert (await sign_in(client)).json()["code"] == "oauth_failed"
        await _nothing_signed_in(client)


async def test_a_broken_provider_is_502_never_500(social: SocialClientFactory, alice: TestProvider) -> None:
    async with social() as client:
        alice.fail_token_endpoint(500, None)
        broken = await sign_in(client)
        assert broken.status_code == 502 and broken.json()["code"] == "provider_unavailable"
        alice.fail_token_endpoint(503, {"oops": True})
        redirected = await sign_in(client, redirectTo=APP)
        assert query_of(redirected.headers["location"])["error"] == "provider_unavailable"
        await _nothing_signed_in(client)


async def test_an_unreachable_provider_is_502(social: SocialClientFactory, op: TestProvider) -> None:
    settings = oidc_provider(op)
    op.stop()  # nothing listens there any more
    async with social(providers={"acme": settings}) as client:
        response = await client.get("/oauth/acme")
        assert response.status_code == 502 and response.json()["code"] == "provider_unavailable"


async def test_a_discovery_document_naming_another_issuer_is_refused(
    social: SocialClientFactory, op: TestProvider
) -> None:
    """The configured issuer is the only one trusted: `http://localhost:<port>` is the same
    server as `http://127.0.0.1:<port>`, but not the issuer its discovery document names."""
    settings = {**oidc_provider(op), "issuer": op.issuer.replace("127.0.0.1", "localhost")}
    async with social(providers={"acme": settings}) as client:
        response = await client.get("/oauth/acme")
        assert response.status_code == 502 and response.json()["code"] == "provider_unavailable"


async def test_the_callback_with_an_error_but_no_state_changes_nothing(
    social: SocialClientFactory, alice: TestProvider
) -> None:
    async with social() as client:
        response = await client.get("/oauth/acme/callback", params={"error": "access_denied"})
        assert response.status_code == 400 and response.json()["code"] == "invalid_state"


async def test_a_started_flow_needs_no_account_and_reveals_none(
    social: SocialClientFactory, alice: TestProvider
) -> None:
    """The start answers the same for everyone: it knows no one yet."""
    async with social() as client:
        a = await client.get("/oauth/acme")
        b = await client.get("/oauth/acme", params={"redirectTo": APP})
        assert a.status_code == b.status_code == 302
        assert a.headers["cache-control"] == "no-store"
        await through_provider(client, a)
