"""Re-authenticating a session with a passkey (what a re-authentication page offers): options
naming the account's passkeys with user verification required, a challenge for this purpose
and this session only, used up by its first verify, the assertion checked as every other (a
refusal counted), and the counter and the session's re-authentication recorded together."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from authgate.errors import AuthError
from authgate.methods.passkey.reauth import reauth_options, reauth_verify
from authgate.scope import RequestContext
from authgate.signin.reauth import has_recent_proof
from tests.support.app import ClientFactory, runtime
from tests.support.http import STRONG_PASSWORD, login
from tests.support.passkeys import (
    Account,
    account,
    add_passkey,
    assert_problem,
    audit,
    login_options,
    register_options,
    stored,
)
from tests.support.reauth import principal_of, proof_columns

CTX = RequestContext(ip_address="203.0.113.9", user_agent="the re-authentication page")


@pytest.fixture
async def always(make_client: ClientFactory) -> Any:
    """AUTHGATE_REAUTH_MAX_AGE_SECONDS=0: every change needs a proof, so a re-authentication shows."""
    async with make_client(reauth_max_age_seconds=0, lockout_threshold=100) as client:
        yield client


@pytest.fixture
async def ada(always: httpx.AsyncClient) -> Account:
    who = await account(always)
    await add_passkey(always, who, proof={"currentPassword": STRONG_PASSWORD})
    return who


def refusal(raised: pytest.ExceptionInfo[AuthError]) -> tuple[int, str]:
    return raised.value.status, str(raised.value.code)


async def test_the_options_name_the_accounts_passkeys_and_ask_for_user_verification(
    always: httpx.AsyncClient, ada: Account
) -> None:
    started = await reauth_options(runtime(always), await principal_of(always, ada.token))
    assert started.challenge_id and started.expires_at
    options = started.options
    assert options["userVerification"] == "required"
    assert [c["id"] for c in options["allowCredentials"]] == [ada.device.only.id]


async def test_an_account_without_a_passkey_gets_no_options(always: httpx.AsyncClient) -> None:
    bob = await account(always, "bob@example.com")
    with pytest.raises(AuthError) as raised:
        await reauth_options(runtime(always), await principal_of(always, bob.token))
    assert refusal(raised) == (400, "validation_failed")


async def test_a_right_assertion_records_the_proof_for_one_change(always: httpx.AsyncClient, ada: Account) -> None:
    rt = runtime(always)
    principal = await principal_of(always, ada.token)
    signed_in = (await proof_columns(always, principal.session_id))["created_at"]
    count_before = (await stored(always, ada.device.only.id) or {})["sign_count"]
    assert_problem(await register_options(always, ada.headers), 401, "reauthentication_required")

    started = await reauth_options(rt, principal)
    await reauth_verify(rt, principal, started.challenge_id, ada.device.get(started.options), CTX)
    after = await stored(always, ada.device.only.id)
    assert after is not None and after["sign_count"] > count_before and after["last_used_at"] is not None
    columns = await proof_columns(always, principal.session_id)
    assert columns["method"] == "passkey" and columns["spent_at"] is None
    assert columns["created_at"] == signed_in
    entries = await audit(always, "user.reauthenticated", ada.user_id)
    assert entries[-1]["data"] == {"method": "passkey"}
    assert has_recent_proof(rt, await principal_of(always, ada.token))

    assert (await register_options(always, ada.headers)).status_code == 200
    assert_problem(await register_options(always, ada.headers), 401, "reauthentication_required")


async def test_a_replayed_challenge_is_refused(always: httpx.AsyncClient, ada: Account) -> None:
    rt = runtime(always)
    principal = await principal_of(always, ada.token)
    started = await reauth_options(rt, principal)
    await reauth_verify(rt, principal, started.challenge_id, ada.device.get(started.options), CTX)
    with pytest.raises(AuthError) as raised:
        await reauth_verify(rt, principal, started.challenge_id, ada.device.get(started.options), CTX)
    assert refusal(raised) == (400, "invalid_token")
    assert len(await audit(always, "user.reauthenticated", ada.user_id)) == 2  # adding the passkey, then this


async def test_another_sessions_challenge_is_refused(always: httpx.AsyncClient, ada: Account) -> None:
    rt = runtime(always)
    mine = await principal_of(always, ada.token)
    other_token = (await login(always)).json()["accessToken"]
    other = await principal_of(always, other_token)
    assert other.session_id != mine.session_id
    started = await reauth_options(rt, other)
    with pytest.raises(AuthError) as raised:
        await reauth_verify(rt, mine, started.challenge_id, ada.device.get(started.options), CTX)
    assert refusal(raised) == (400, "invalid_token")
    for session in (mine, other):
        assert (await proof_columns(always, session.session_id))["method"] in {None, "password"}
    assert not has_recent_proof(rt, await principal_of(always, ada.token))


async def test_a_sign_in_challenge_is_refused(always: httpx.AsyncClient, ada: Account) -> None:
    rt = runtime(always)
    principal = await principal_of(always, ada.token)
    started = await login_options(always)
    with pytest.raises(AuthError) as raised:
        await reauth_verify(rt, principal, started["challengeId"], ada.device.get(started["options"]), CTX)
    assert refusal(raised) == (400, "invalid_token")
    assert not has_recent_proof(rt, await principal_of(always, ada.token))


async def test_an_assertion_without_user_verification_is_refused_and_counted(
    always: httpx.AsyncClient, ada: Account
) -> None:
    rt = runtime(always)
    principal = await principal_of(always, ada.token)
    failed_before = len(await audit(always, "user.login_failed", ada.user_id))
    started = await reauth_options(rt, principal)
    with pytest.raises(AuthError) as raised:
        await reauth_verify(
            rt, principal, started.challenge_id, ada.device.get(started.options, user_verified=False), CTX
        )
    assert refusal(raised) == (401, "invalid_credentials")
    assert len(await audit(always, "user.login_failed", ada.user_id)) == failed_before + 1
    assert (await proof_columns(always, principal.session_id))["method"] == "password"  # adding the passkey's
    assert not has_recent_proof(rt, await principal_of(always, ada.token))
    assert_problem(await register_options(always, ada.headers), 401, "reauthentication_required")


async def test_another_accounts_passkey_is_refused(always: httpx.AsyncClient, ada: Account) -> None:
    rt = runtime(always)
    bob = await account(always, "bob@example.com")
    await add_passkey(always, bob, proof={"currentPassword": STRONG_PASSWORD})
    principal = await principal_of(always, ada.token)
    started = await reauth_options(rt, principal)
    with pytest.raises(AuthError) as raised:
        await reauth_verify(
            rt, principal, started.challenge_id, bob.device.get({**started.options, "allowCredentials": []}), CTX
        )
    assert refusal(raised) == (401, "invalid_credentials")
    assert not has_recent_proof(rt, await principal_of(always, ada.token))
