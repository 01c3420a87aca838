"""One-time MFA things under real concurrency (asyncio.gather of requests), on both backends:
N concurrent uses of one code or one mfaToken give exactly one sign-in."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.support.app import ClientFactory
from tests.support.http import bearer, register
from tests.support.mfa import Authenticator, MfaAccount, mfa_token

N = 8


@pytest.fixture
async def client(make_client: ClientFactory) -> AsyncIterator[httpx.AsyncClient]:
    """The one-time things alone: the account's lockout, which N parallel failures would also
    reach, is raised here (tests/abuse covers it)."""
    async with make_client(lockout_threshold=100) as c:
        yield c


def outcomes(responses: list[httpx.Response]) -> Counter[object]:
    return Counter(r.status_code if r.status_code == 200 else r.json()["code"] for r in responses)


async def test_concurrent_verify_with_the_right_code_signs_in_once(
    client: httpx.AsyncClient, account: MfaAccount
) -> None:
    token = await mfa_token(client, account)
    code = await account.app.code()
    responses = await asyncio.gather(
        *(client.post("/api/auth/mfa/verify", json={"mfaToken": token, "code": code}) for _ in range(N))
    )
    assert outcomes(list(responses))[200] == 1, outcomes(list(responses))


async def test_concurrent_verify_with_different_recovery_codes_signs_in_once(
    client: httpx.AsyncClient, account: MfaAccount
) -> None:
    token = await mfa_token(client, account)
    codes = account.recovery_codes[:N]
    responses = list(
        await asyncio.gather(*(client.post("/api/auth/mfa/verify", json={"mfaToken": token, "code": c}) for c in codes))
    )
    result = outcomes(responses)
    assert result[200] == 1, result
    assert set(result) <= {200, "invalid_token"}


async def test_concurrent_logins_with_one_totp_code_sign_in_once(
    client: httpx.AsyncClient, account: MfaAccount
) -> None:
    body = account.login_body(mfaCode=await account.app.code())
    responses = list(await asyncio.gather(*(client.post("/api/auth/login", json=body) for _ in range(N))))
    assert outcomes(responses) == Counter({200: 1, "invalid_mfa_code": N - 1})


async def test_concurrent_logins_with_one_recovery_code_sign_in_once(
    client: httpx.AsyncClient, account: MfaAccount
) -> None:
    body = account.login_body(mfaCode=account.recovery_codes[0])
    responses = list(await asyncio.gather(*(client.post("/api/auth/login", json=body) for _ in range(N))))
    assert outcomes(responses) == Counter({200: 1, "invalid_mfa_code": N - 1})


async def test_parallel_guesses_on_one_mfa_token_are_counted_exactly(
    client: httpx.AsyncClient, account: MfaAccount
) -> None:
    token = await mfa_token(client, account)
    wrong = account.app.wrong_code()
    responses = list(
        await asyncio.gather(
            *(client.post("/api/auth/mfa/verify", json={"mfaToken": token, "code": wrong}) for _ in range(12))
        )
    )
    assert outcomes(responses) == Counter({"invalid_mfa_code": 5, "invalid_token": 7})
    late = await client.post("/api/auth/mfa/verify", json={"mfaToken": token, "code": await account.app.code()})
    assert late.json()["code"] == "invalid_token"


async def test_concurrent_enables_enable_once(client: httpx.AsyncClient) -> None:
    headers = bearer((await register(client)).json()["accessToken"])
    secret = (await client.post("/api/auth/mfa/setup", headers=headers)).json()["secret"]
    body = {"secret": secret, "verificationCode": await Authenticator(secret).code()}
    responses = list(
        await asyncio.gather(*(client.post("/api/auth/mfa/enable", headers=headers, json=body) for _ in range(N)))
    )
    result = outcomes(responses)
    assert result[200] == 1 and result["conflict"] == N - 1, result
