"""Passkeys on the hosted pages over HTTP, on both databases, with the software authenticator of
tests/support/webauthn.py doing what passkey.js does: `POST /ui/passkey/options` with the page
form's token, the ceremony, then the page's own form posted with `challengeId` + `credential`.
The second step (`mfa`), re-authentication (`reauth`), `register` without a recent proof, the
CSRF checks of the options, and malformed credentials (the form again, never a 500)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from authgate.storage.models import OneTimeSecret
from tests.support.app import ClientFactory, sql
from tests.support.http import STRONG_PASSWORD
from tests.support.passkeys import Account, account, add_passkey, assert_problem, mfa_account_with_passkey
from tests.support.ui import BROWSER, ORIGIN, SAME_ORIGIN, Page, api_headers, location, open_page, post_form, sign_in

MALFORMED = ["{not json", json.dumps(["a list"]), json.dumps("text"), "x" * (16 * 1024 + 1)]


async def view(client: httpx.AsyncClient, path: str) -> Page:
    page = Page(await open_page(client, path))
    assert page.status == 200, (path, page.status, page.text[:1000])
    return page


async def options(client: httpx.AsyncClient, purpose: str, token: str | None) -> httpx.Response:
    """What passkey.js posts: the purpose and the page form's CSRF token."""
    data = {"purpose": purpose, **({"csrf_token": token} if token is not None else {})}
    return await client.post("/ui/passkey/options", data=data, headers={**BROWSER, **SAME_ORIGIN})


async def started(client: httpx.AsyncClient, purpose: str, token: str) -> dict[str, Any]:
    answer = await options(client, purpose, token)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = answer.json()
    assert set(body) == {"challengeId", "options", "expiresAt"}
    return body


async def challenges(client: httpx.AsyncClient) -> int:
    """WebAuthn challenges issued so far, of any purpose."""
    rows = await sql(
        client, select(func.count()).select_from(OneTimeSecret).where(OneTimeSecret.purpose.like("passkey_%"))
    )
    return int(rows[0][0])


async def pending_second_step(client: httpx.AsyncClient, email: str, return_to: str) -> Page:
    """The password signed in on the page, a second step due: the second-step page."""
    client.cookies.clear()
    first = await sign_in(client, email, STRONG_PASSWORD, return_to=return_to)
    assert location(first) == "/ui/mfa"
    return await view(client, "/ui/mfa")


async def passkey_account(make_client: ClientFactory) -> Account:
    """An account with a passkey, added through the API where a fresh sign-in is a proof."""
    async with make_client() as client:
        who = await account(client)
        await add_passkey(client, who)
    return who


# --- the second step -------------------------------------------------------------------------------------


async def test_a_passkey_answers_the_second_step(client: httpx.AsyncClient) -> None:
    mfa, device = await mfa_account_with_passkey(client)
    page = await pending_second_step(client, mfa.email, "/ui/account/sessions")
    assert page.one("button", type="button")["data-passkey"] == "mfa"
    token = page.csrf_token()
    ceremony = await started(client, "mfa", token)
    assertion = device.get(ceremony["options"])
    done = await post_form(
        client, "/ui/mfa", {"challengeId": ceremony["challengeId"], "credential": json.dumps(assertion)}, token=token
    )
    assert location(done) == "/ui/account/sessions"
    me = await client.get("/user", headers=api_headers(client))
    assert me.json()["email"] == mfa.email


async def test_mfa_options_need_a_pending_second_step(client: httpx.AsyncClient) -> None:
    await mfa_account_with_passkey(client)
    client.cookies.clear()
    token = (await view(client, "/ui/login")).csrf_token()
    before = await challenges(client)
    refused = await options(client, "mfa", token)
    assert_problem(refused, 401, "invalid_token")
    assert await challenges(client) == before


# --- re-authentication, and adding a passkey without a recent proof ---------------------------------------


async def test_a_passkey_proves_it_is_you_again(make_client: ClientFactory) -> None:
    who = await passkey_account(make_client)
    async with make_client(reauth_max_age_seconds=0) as client:
        await sign_in(client, who.email, STRONG_PASSWORD)
        passkeys = await view(client, "/ui/account/passkeys")
        without = await options(client, "register", passkeys.csrf_token())
        assert_problem(without, 401, "reauthentication_required")

        page = await view(client, "/ui/reauth?return_to=/ui/account/passkeys")
        assert page.one("button", type="button")["data-passkey"] == "reauth"
        token = page.csrf_token()
        ceremony = await started(client, "reauth", token)
        assertion = who.device.get(ceremony["options"])
        fields = {
            "challengeId": ceremony["challengeId"],
            "credential": json.dumps(assertion),
            "return_to": "/ui/account/passkeys",
        }
        done = await post_form(client, "/ui/reauth", fields, token=token)
        assert location(done) == "/ui/account/passkeys"

        passkeys = await view(client, "/ui/account/passkeys")
        await started(client, "register", passkeys.csrf_token())  # the proof lets the next sensitive step through


async def test_reauth_options_need_a_session(client: httpx.AsyncClient) -> None:
    token = (await view(client, "/ui/login")).csrf_token()
    for purpose in ("reauth", "register"):
        refused = await options(client, purpose, token)
        assert refused.headers["content-type"].startswith("application/problem+json"), refused.text
        assert refused.status_code in (400, 401), refused.text
    assert await challenges(client) == 0


# --- CSRF -------------------------------------------------------------------------------------------------


async def test_options_without_the_forms_token_are_refused_and_issue_nothing(client: httpx.AsyncClient) -> None:
    await view(client, "/ui/login")
    async with httpx.AsyncClient(transport=client._transport, base_url=ORIGIN) as other:
        foreign = (await view(other, "/ui/login")).csrf_token()
    for token in (None, "", foreign):
        refused = await options(client, "login", token)
        assert_problem(refused, 403, "forbidden")
    assert await challenges(client) == 0
    own = (await view(client, "/ui/login")).csrf_token()
    cross = await client.post(
        "/ui/passkey/options",
        data={"purpose": "login", "csrf_token": own},
        headers={**BROWSER, "Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
    )
    assert_problem(cross, 403, "forbidden")
    assert await challenges(client) == 0
    await started(client, "login", own)  # the page's own token passes
    assert await challenges(client) == 1


# --- a malformed credential: the form again with 400 ---------------------------------------------------------


@pytest.mark.parametrize("credential", MALFORMED, ids=["not-json", "list", "string", "too-large"])
async def test_a_malformed_credential_at_sign_in_is_the_form_again(make_client: ClientFactory, credential: str) -> None:
    who = await passkey_account(make_client)
    async with make_client() as client:
        page = await view(client, "/ui/login")
        token = page.csrf_token()
        ceremony = await started(client, "login", token)
        refused = await post_form(
            client, "/ui/login", {"challengeId": ceremony["challengeId"], "credential": credential}, token=token
        )
        assert refused.status == 400, refused.text[:1000]
        assert refused.has_error_summary()
        assert refused.one("form", action="/ui/login")
        assert "accessToken" not in client.cookies
        genuine = who.device.get(ceremony["options"])  # the challenge was not spent on the refusal
        done = await post_form(
            client,
            "/ui/login",
            {"challengeId": ceremony["challengeId"], "credential": json.dumps(genuine)},
            token=token,
        )
        assert location(done) == "/ui/account"


@pytest.mark.parametrize("credential", MALFORMED, ids=["not-json", "list", "string", "too-large"])
async def test_a_malformed_credential_at_the_second_step_is_the_form_again(
    client: httpx.AsyncClient, credential: str
) -> None:
    mfa, device = await mfa_account_with_passkey(client)
    page = await pending_second_step(client, mfa.email, "/ui/account")
    token = page.csrf_token()
    ceremony = await started(client, "mfa", token)
    refused = await post_form(
        client, "/ui/mfa", {"challengeId": ceremony["challengeId"], "credential": credential}, token=token
    )
    assert refused.status == 400, refused.text[:1000]
    assert refused.has_error_summary()
    assert "accessToken" not in client.cookies
    genuine = device.get(ceremony["options"])  # the second step is still pending, its challenge unspent
    done = await post_form(
        client, "/ui/mfa", {"challengeId": ceremony["challengeId"], "credential": json.dumps(genuine)}, token=token
    )
    assert location(done) == "/ui/account"


async def test_a_garbled_assertion_or_a_spent_challenge_is_the_form_again(client: httpx.AsyncClient) -> None:
    """Well-formed JSON whose parts are wrong is refused like a wrong passkey (401), and a
    challenge used already is 400: the form again each time, the second step still pending."""
    mfa, device = await mfa_account_with_passkey(client)
    page = await pending_second_step(client, mfa.email, "/ui/account")
    token = page.csrf_token()

    async def answer(challenge_id: str, credential: dict[str, Any]) -> Page:
        fields = {"challengeId": challenge_id, "credential": json.dumps(credential)}
        return await post_form(client, "/ui/mfa", fields, token=token)

    ceremony: dict[str, Any] = {}
    for garble in ({"response": "x"}, {"id": 5}, {"type": "other", "response": {}}):
        ceremony = await started(client, "mfa", token)  # as passkey.js does: new options each time
        refused = await answer(ceremony["challengeId"], {**device.get(ceremony["options"]), **garble})
        assert refused.status == 401, (garble, refused.status, refused.text[:1000])
        assert refused.has_error_summary()
    spent = await answer(ceremony["challengeId"], device.get(ceremony["options"]))
    assert spent.status == 400, (spent.status, spent.text[:1000])
    assert spent.has_error_summary() and "accessToken" not in client.cookies
    fresh = await started(client, "mfa", token)
    assert location(await answer(fresh["challengeId"], device.get(fresh["options"]))) == "/ui/account"
