"""Recent proof: a sensitive change needs the session's latest proof of identity (its sign-in,
or its latest re-authentication) within AUTHGATE_REAUTH_MAX_AGE_SECONDS, or a proof of its own;
a re-authentication also lets the one change that spends it pass, for five minutes at most,
whatever that setting. Adding a passkey (`POST /passkeys/register/options`) stands for every
sensitive change here: it passes with 200, or is refused with 401 `reauthentication_required`."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from authgate.errors import AuthError
from authgate.scope import RequestContext
from authgate.signin.reauth import (
    has_recent_proof,
    reauthenticate_with_code,
    reauthenticate_with_password,
    record_reauthentication,
)
from tests.support.app import ClientFactory, runtime
from tests.support.http import STRONG_PASSWORD
from tests.support.mfa import enrol
from tests.support.passkeys import Account, account, assert_problem, audit, register_options
from tests.support.reauth import age_session, principal_of, proof_columns
from tests.support.webauthn import SoftAuthenticator

CTX = RequestContext(ip_address="203.0.113.9", user_agent="the re-authentication page")


async def change(client: httpx.AsyncClient, who: Account, **proof: Any) -> httpx.Response:
    """A sensitive change: the options to add a passkey."""
    return await register_options(client, who.headers, **proof)


async def passes(client: httpx.AsyncClient, who: Account, **proof: Any) -> None:
    response = await change(client, who, **proof)
    assert response.status_code == 200, response.text


async def refused(client: httpx.AsyncClient, who: Account, **proof: Any) -> None:
    assert_problem(await change(client, who, **proof), 401, "reauthentication_required")


async def sid(client: httpx.AsyncClient, who: Account) -> str:
    return (await principal_of(client, who.token)).session_id


@pytest.fixture
async def always(make_client: ClientFactory) -> Any:
    """AUTHGATE_REAUTH_MAX_AGE_SECONDS=0: ask for a proof with every change."""
    async with make_client(reauth_max_age_seconds=0) as client:
        yield client


async def test_with_0_every_change_needs_a_proof_right_after_sign_in_too(always: httpx.AsyncClient) -> None:
    ada = await account(always)
    session_id = await sid(always, ada)
    before = await proof_columns(always, session_id)

    await refused(always, ada)
    await passes(always, ada, currentPassword=STRONG_PASSWORD)
    reauthenticated = await audit(always, "user.reauthenticated", ada.user_id)
    assert [entry["data"] for entry in reauthenticated] == [{"method": "password"}]
    after = await proof_columns(always, session_id)
    assert after["reauthenticated_at"] is not None and after["spent_at"] == after["reauthenticated_at"]
    assert after["method"] == "password"
    # The proof was spent by the change it came with: the next change asks again.
    await refused(always, ada)
    await passes(always, ada, currentPassword=STRONG_PASSWORD)
    assert len(await audit(always, "user.reauthenticated", ada.user_id)) == 2
    # The sign-in time never moves.
    assert (await proof_columns(always, session_id))["created_at"] == before["created_at"]


async def test_a_proof_sent_with_a_change_is_the_latest_proof(client: httpx.AsyncClient) -> None:
    ada = await account(client)
    session_id = await sid(client, ada)
    await age_session(client, session_id, created_at=600)
    signed_in = (await proof_columns(client, session_id))["created_at"]

    await refused(client, ada)
    await passes(client, ada, currentPassword=STRONG_PASSWORD)
    # Within AUTHGATE_REAUTH_MAX_AGE_SECONDS of that proof, the next changes need none.
    await passes(client, ada)
    await passes(client, ada)
    assert len(await audit(client, "user.reauthenticated", ada.user_id)) == 1
    assert (await proof_columns(client, session_id))["created_at"] == signed_in
    # ... and once it is older than that, they do again.
    await age_session(client, session_id, reauthenticated_at=301)
    await refused(client, ada)


async def test_a_wrong_proof_records_nothing(always: httpx.AsyncClient) -> None:
    ada = await account(always)
    wrong = await change(always, ada, currentPassword="Not-The-Password-1")
    assert_problem(wrong, 401, "invalid_credentials")
    assert await audit(always, "user.reauthenticated", ada.user_id) == []
    assert len(await audit(always, "user.login_failed", ada.user_id)) == 1
    assert (await proof_columns(always, await sid(always, ada)))["reauthenticated_at"] is None


async def test_a_reauthentication_lets_exactly_one_change_pass(always: httpx.AsyncClient) -> None:
    rt = runtime(always)
    ada = await account(always)
    session_id = await sid(always, ada)
    signed_in = (await proof_columns(always, session_id))["created_at"]
    assert not has_recent_proof(rt, await principal_of(always, ada.token))

    await record_reauthentication(rt, await principal_of(always, ada.token), ctx=CTX, method="password")
    entries = await audit(always, "user.reauthenticated", ada.user_id)
    assert [entry["data"] for entry in entries] == [{"method": "password"}]
    # A page that only shows reads it, as often as it likes, without spending it.
    for _ in range(3):
        assert has_recent_proof(rt, await principal_of(always, ada.token))
    stored = await proof_columns(always, session_id)
    assert stored["spent_at"] is None and stored["method"] == "password"

    await passes(always, ada)
    assert not has_recent_proof(rt, await principal_of(always, ada.token))
    await refused(always, ada)
    stored = await proof_columns(always, session_id)
    assert stored["spent_at"] is not None and stored["created_at"] == signed_in


async def test_of_concurrent_changes_exactly_one_spends_a_reauthentication(always: httpx.AsyncClient) -> None:
    ada = await account(always)
    await record_reauthentication(runtime(always), await principal_of(always, ada.token), ctx=CTX, method="password")
    answers = await asyncio.gather(*(change(always, ada) for _ in range(8)))
    statuses = sorted(response.status_code for response in answers)
    assert statuses == [200] + [401] * 7, [response.text for response in answers]
    for response in answers:
        if response.status_code == 401:
            assert response.json()["code"] == "reauthentication_required"


async def test_a_reauthentication_counts_for_five_minutes_at_most(always: httpx.AsyncClient) -> None:
    rt = runtime(always)
    ada = await account(always)
    session_id = await sid(always, ada)
    await record_reauthentication(rt, await principal_of(always, ada.token), ctx=CTX, method="password")
    await age_session(always, session_id, reauthenticated_at=290)
    assert has_recent_proof(rt, await principal_of(always, ada.token))
    await age_session(always, session_id, reauthenticated_at=301)
    assert not has_recent_proof(rt, await principal_of(always, ada.token))
    await refused(always, ada)
    assert (await proof_columns(always, session_id))["spent_at"] is None


async def test_with_a_long_max_age_a_reauthentication_counts_for_as_long(make_client: ClientFactory) -> None:
    """A spent re-authentication is still the session's latest proof."""
    async with make_client(reauth_max_age_seconds=3600) as client:
        ada = await account(client)
        session_id = await sid(client, ada)
        await age_session(client, session_id, created_at=7200)
        await refused(client, ada)
        await record_reauthentication(runtime(client), await principal_of(client, ada.token), method="password")
        await age_session(client, session_id, reauthenticated_at=1800)
        await passes(client, ada)
        await passes(client, ada)


async def test_the_page_checks_a_password(always: httpx.AsyncClient) -> None:
    rt = runtime(always)
    ada = await account(always)
    with pytest.raises(AuthError) as wrong:
        await reauthenticate_with_password(rt, await principal_of(always, ada.token), password="Nope-Nope-12", ctx=CTX)
    assert (wrong.value.status, wrong.value.code) == (401, "invalid_credentials")
    assert len(await audit(always, "user.login_failed", ada.user_id)) == 1
    await refused(always, ada)

    await reauthenticate_with_password(rt, await principal_of(always, ada.token), password=STRONG_PASSWORD, ctx=CTX)
    await passes(always, ada)
    await refused(always, ada)


async def test_a_change_that_needs_a_second_factor_takes_a_reauthentication_by_one(
    client: httpx.AsyncClient,
) -> None:
    """Adding a passkey to an account with a second factor, from a session that did not pass
    it: neither a recent sign-in nor a password re-authentication is enough; one by a second
    factor's code is (and, recent, stays the latest proof)."""
    rt = runtime(client)
    mfa = await enrol(client)
    ada = Account(mfa.email, mfa.user_id, mfa.token, SoftAuthenticator())
    await record_reauthentication(rt, await principal_of(client, ada.token), ctx=CTX, method="password")
    assert not has_recent_proof(rt, await principal_of(client, ada.token), with_second_factor=True)
    assert has_recent_proof(rt, await principal_of(client, ada.token))
    await refused(client, ada)

    with pytest.raises(AuthError) as wrong:
        await reauthenticate_with_code(rt, await principal_of(client, ada.token), code=mfa.app.wrong_code(), ctx=CTX)
    assert (wrong.value.status, wrong.value.code) == (401, "invalid_mfa_code")
    await reauthenticate_with_code(rt, await principal_of(client, ada.token), code=await mfa.app.code(), ctx=CTX)
    assert has_recent_proof(rt, await principal_of(client, ada.token), with_second_factor=True)
    entries = await audit(client, "user.reauthenticated", ada.user_id)
    assert [entry["data"] for entry in entries] == [{"method": "password"}, {"method": "totp"}]
    await passes(client, ada)
    await passes(client, ada)
