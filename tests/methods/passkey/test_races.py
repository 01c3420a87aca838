"""Passkey challenges and counters under real concurrency (asyncio.gather of requests to one
app), on SQLite and PostgreSQL: N verifies naming one challenge give exactly one success and
N - 1 `invalid_token`; N assertions of one passkey carrying the same counter sign in once."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable

import httpx
import pytest

from tests.support.app import ClientFactory
from tests.support.mfa import mfa_token
from tests.support.passkeys import (
    account,
    add_passkey,
    audit,
    begin,
    finish,
    login_options,
    login_verify,
    mfa_account_with_passkey,
    mfa_options,
    passkey_count,
    stored,
)
from tests.support.webauthn import SoftAuthenticator

N = 8


@pytest.fixture
async def client(make_client: ClientFactory) -> AsyncIterator[httpx.AsyncClient]:
    """The one-time things alone: the account's lockout, which N parallel failures could also
    reach, is raised here."""
    async with make_client(lockout_threshold=100) as c:
        yield c


def outcomes(responses: list[httpx.Response]) -> Counter[object]:
    return Counter(r.status_code if r.status_code < 300 else r.json()["code"] for r in responses)


async def gather(*calls: Awaitable[httpx.Response]) -> list[httpx.Response]:
    return list(await asyncio.gather(*calls))


async def test_concurrent_sign_ins_with_one_challenge_sign_in_once(client: httpx.AsyncClient) -> None:
    ada = await account(client)
    await add_passkey(client, ada)
    started = await login_options(client)
    assertion = ada.device.get(started["options"])
    responses = await gather(
        *(login_verify(client, started["challengeId"], assertion, options={"setCookie": False}) for _ in range(N))
    )
    assert outcomes(responses) == Counter({200: 1, "invalid_token": N - 1}), [r.text for r in responses]
    row = await stored(client, ada.device.only.id)
    assert row is not None and row["sign_count"] == 1
    assert len(await audit(client, "user.login", ada.user_id)) == 1 + 1  # register's, then one


async def test_concurrent_registrations_with_one_challenge_add_one_passkey(client: httpx.AsyncClient) -> None:
    ada = await account(client)
    started = await begin(client, ada.headers)
    made = ada.device.create(started["options"])
    responses = await gather(*(finish(client, ada.headers, started["challengeId"], made) for _ in range(N)))
    assert outcomes(responses) == Counter({201: 1, "invalid_token": N - 1}), [r.text for r in responses]
    assert await passkey_count(client, ada.user_id) == 1
    assert len(await audit(client, "passkey.added", ada.user_id)) == 1


async def test_concurrent_registrations_of_different_credentials_on_one_challenge_add_one(
    client: httpx.AsyncClient,
) -> None:
    ada = await account(client)
    started = await begin(client, ada.headers)
    made = [SoftAuthenticator().create(started["options"]) for _ in range(N)]
    responses = await gather(*(finish(client, ada.headers, started["challengeId"], m) for m in made))
    assert outcomes(responses) == Counter({201: 1, "invalid_token": N - 1}), [r.text for r in responses]
    assert await passkey_count(client, ada.user_id) == 1


async def test_concurrent_assertions_with_one_counter_sign_in_once(client: httpx.AsyncClient) -> None:
    """N challenges, N assertions of one passkey all carrying counter 1 (a replay across
    challenges, or clones racing): the counter is written conditionally, so one wins."""
    ada = await account(client)
    await add_passkey(client, ada)
    starts = [await login_options(client) for _ in range(N)]
    assertions = [ada.device.get(s["options"], sign_count=1) for s in starts]
    responses = await gather(
        *(
            login_verify(client, s["challengeId"], a, options={"setCookie": False})
            for s, a in zip(starts, assertions, strict=True)
        )
    )
    result = outcomes(responses)
    assert result == Counter({200: 1, "invalid_credentials": N - 1}), [r.text for r in responses]
    row = await stored(client, ada.device.only.id)
    assert row is not None and row["sign_count"] == 1


async def test_concurrent_second_steps_with_one_challenge_sign_in_once(client: httpx.AsyncClient) -> None:
    mfa, device = await mfa_account_with_passkey(client)
    token = await mfa_token(client, mfa)
    started = (await mfa_options(client, token)).json()
    assertion = device.get(started["options"])
    body = {"mfaToken": token, "challengeId": started["challengeId"], "credential": assertion}
    responses = await gather(*(client.post("/mfa/verify", json=body) for _ in range(N)))
    result = outcomes(responses)
    assert result[200] == 1, [r.text for r in responses]
    assert set(result) <= {200, "invalid_token"}, result


async def test_concurrent_registrations_of_one_credential_on_two_accounts_store_it_once(
    client: httpx.AsyncClient,
) -> None:
    """The same credential id offered to two accounts at once: the unique key keeps one."""
    ada, bob = await account(client), await account(client, "bob@example.com")
    device = SoftAuthenticator()
    firsts = [await begin(client, who.headers) for who in (ada, bob)]
    made = device.create(firsts[0]["options"])
    again = SoftAuthenticator().create(
        firsts[1]["options"], credential_id=device.only.credential_id, key=device.only.key
    )
    responses = await gather(
        finish(client, ada.headers, firsts[0]["challengeId"], made),
        finish(client, bob.headers, firsts[1]["challengeId"], again),
    )
    assert sorted(outcomes(responses).elements(), key=str) == [201, "passkey_exists"], [r.text for r in responses]
    assert await passkey_count(client) == 1
