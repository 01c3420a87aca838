"""A one-time code allows five tries and works once, whichever path it is entered through.

Every path that takes a code sent by email or SMS is driven here as an attacker would: five
wrong codes (each with a fresh mfaToken where the path takes one, so the token's own tries
do not stop the guessing first), then the right code, which must be refused; the store holds
five spent tries. Before the one redeem path, the second factor spent its try inside the
sign-in's transaction, which a wrong code rolls back: five wrong tries with five fresh
mfaTokens left the code working.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import select

from authgate.storage.models import OneTimeSecret
from authgate.storage.models.one_time import CODE_LOGIN, CODE_MFA, CODE_VERIFY
from tests.support.app import runtime
from tests.support.delivery import MessagingClientFactory
from tests.support.http import STRONG_PASSWORD, bearer, register
from tests.support.mail import Mailbox, code_in, mail_code
from tests.support.sms import PHONE, SmsReceiver, verified_phone_user

EMAIL = "ada@example.com"
TRIES = 5
REAUTH = {"currentPassword": STRONG_PASSWORD}  # sensitive changes re-authenticate (see `client`)

Attempt = Callable[[str], Awaitable[httpx.Response]]


@dataclass
class Path:
    """A live code, and how one request enters a code through this path."""

    code: str
    attempt: Attempt
    wrong_status: int


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


async def mailed_code(mailbox: Mailbox, count: int) -> str:
    return mail_code(await mailbox.wait_for(EMAIL, count))


async def email_factor_user(client: httpx.AsyncClient, mailbox: Mailbox) -> str:
    """A password account with the one-time-code second factor on its address; its token."""
    token = str((await register(client, email=EMAIL)).json()["token"])
    sent = await client.post("/otp/send", json={"channel": "email", "purpose": "mfa"}, headers=bearer(token))
    assert sent.status_code == 202, sent.text
    body = {"channel": "email", "purpose": "mfa", "code": await mailed_code(mailbox, 1), **REAUTH}
    on = await client.post("/otp/verify", json=body, headers=bearer(token))
    assert on.status_code == 200, on.text
    return token


async def second_step_code(client: httpx.AsyncClient, mailbox: Mailbox) -> str:
    """A code sent for the second step of a sign-in (the enrolment took the first mail)."""
    sent = await client.post("/otp/send", json={"channel": "email", "email": EMAIL, "purpose": "mfa"})
    assert sent.status_code == 202, sent.text
    return await mailed_code(mailbox, 2)


async def fresh_mfa_token(client: httpx.AsyncClient) -> str:
    step1 = await client.post("/login", json={"email": EMAIL, "password": STRONG_PASSWORD})
    assert step1.status_code == 401 and step1.json()["code"] == "mfa_required", step1.text
    return str(step1.json()["mfaToken"])


async def code_sign_in(client: httpx.AsyncClient, mailbox: Mailbox, sms: SmsReceiver) -> Path:
    await register(client, email=EMAIL)
    await client.post("/otp/send", json={"channel": "email", "email": EMAIL, "purpose": "login"})
    code = await mailed_code(mailbox, 1)

    async def attempt(code: str) -> httpx.Response:
        return await client.post("/otp/verify", json={"channel": "email", "email": EMAIL, "code": code})

    return Path(code, attempt, 401)


async def address_verification(client: httpx.AsyncClient, mailbox: Mailbox, sms: SmsReceiver) -> Path:
    await register(client, email=EMAIL)
    await client.post("/otp/send", json={"channel": "email", "email": EMAIL, "purpose": "verify"})
    code = await mailed_code(mailbox, 1)

    async def attempt(code: str) -> httpx.Response:
        body = {"channel": "email", "email": EMAIL, "code": code, "purpose": "verify"}
        return await client.post("/otp/verify", json=body)

    return Path(code, attempt, 400)


async def factor_enrolment(client: httpx.AsyncClient, mailbox: Mailbox, sms: SmsReceiver) -> Path:
    token = str((await register(client, email=EMAIL)).json()["token"])
    await client.post("/otp/send", json={"channel": "email", "purpose": "mfa"}, headers=bearer(token))
    code = await mailed_code(mailbox, 1)

    async def attempt(code: str) -> httpx.Response:
        body = {"channel": "email", "code": code, "purpose": "mfa", **REAUTH}
        return await client.post("/otp/verify", json=body, headers=bearer(token))

    return Path(code, attempt, 401)


# The second step, entered through each path that takes a second factor's code: the account
# has the code factor on its address, and a code was sent for the step.
Enter = Callable[[httpx.AsyncClient, str, str], Awaitable[httpx.Response]]  # (client, token, code)


async def login_with_mfa_code(client: httpx.AsyncClient, token: str, code: str) -> httpx.Response:
    return await client.post("/login", json={"email": EMAIL, "password": STRONG_PASSWORD, "mfaCode": code})


async def mfa_verify_with_fresh_tokens(client: httpx.AsyncClient, token: str, code: str) -> httpx.Response:
    return await client.post("/mfa/verify", json={"mfaToken": await fresh_mfa_token(client), "code": code})


async def otp_verify_with_fresh_tokens(client: httpx.AsyncClient, token: str, code: str) -> httpx.Response:
    body = {"channel": "email", "email": EMAIL, "code": code, "mfaToken": await fresh_mfa_token(client)}
    return await client.post("/otp/verify", json=body)


async def reauthentication(client: httpx.AsyncClient, token: str, code: str) -> httpx.Response:
    """A sensitive change (setting up an authenticator app) re-authenticated with the code."""
    return await client.post("/mfa/setup", json={"mfaCode": code}, headers=bearer(token))


async def factor_removal(client: httpx.AsyncClient, token: str, code: str) -> httpx.Response:
    return await client.post("/otp/remove", json={"verificationCode": code}, headers=bearer(token))


def second_step(enter: Enter) -> Callable[[httpx.AsyncClient, Mailbox, SmsReceiver], Awaitable[Path]]:
    async def path(client: httpx.AsyncClient, mailbox: Mailbox, sms: SmsReceiver) -> Path:
        token = await email_factor_user(client, mailbox)
        code = await second_step_code(client, mailbox)

        async def attempt(code: str) -> httpx.Response:
            return await enter(client, token, code)

        return Path(code, attempt, 401)

    path.__name__ = enter.__name__
    return path


async def phone_move(client: httpx.AsyncClient, mailbox: Mailbox, sms: SmsReceiver) -> Path:
    """The SMS factor follows the phone: moving it takes a code sent to the current phone."""
    token = await verified_phone_user(client, sms)
    await client.post("/otp/send", json={"channel": "sms", "purpose": "mfa"}, headers=bearer(token))
    enrol = {"channel": "sms", "purpose": "mfa", "code": code_in(await sms.wait_for(PHONE, 2)), **REAUTH}
    assert (await client.post("/otp/verify", json=enrol, headers=bearer(token))).status_code == 200
    await client.post("/otp/send", json={"channel": "sms", "phone": PHONE, "purpose": "mfa"})
    code = code_in(await sms.wait_for(PHONE, 3))

    async def attempt(code: str) -> httpx.Response:
        body = {"phone": "+14155550111", "mfaCode": code}
        return await client.put("/user", json=body, headers=bearer(token))

    return Path(code, attempt, 401)


async def tries_of_the_newest_code(client: httpx.AsyncClient) -> int:
    codes = OneTimeSecret.purpose.in_([CODE_LOGIN, CODE_VERIFY, CODE_MFA])
    newest = select(OneTimeSecret.attempts).where(codes).order_by(OneTimeSecret.created_at.desc()).limit(1)
    async with runtime(client).read() as db:
        return int((await db.scalars(newest)).one())


PATHS = [
    code_sign_in,
    address_verification,
    factor_enrolment,
    *map(
        second_step,
        [
            login_with_mfa_code,
            mfa_verify_with_fresh_tokens,
            otp_verify_with_fresh_tokens,
            reauthentication,
            factor_removal,
        ],
    ),
    phone_move,
]


@pytest.fixture
async def client(messaging_client: MessagingClientFactory) -> AsyncIterator[httpx.AsyncClient]:
    """The code's own limit alone: the account's lockout is raised (tests/abuse covers it),
    and every sensitive change must re-authenticate."""
    async with messaging_client(lockout_threshold=100, reauth_max_age_seconds=0) as client:
        yield client


@pytest.fixture(params=PATHS, ids=[p.__name__ for p in PATHS])
async def entered(
    request: pytest.FixtureRequest, client: httpx.AsyncClient, mailbox: Mailbox, sms: SmsReceiver
) -> Path:
    """A live code, and one path to enter it through."""
    path: Callable[[httpx.AsyncClient, Mailbox, SmsReceiver], Awaitable[Path]] = request.param
    return await path(client, mailbox, sms)


async def test_every_wrong_code_spends_a_try(client: httpx.AsyncClient, entered: Path) -> None:
    for _ in range(TRIES):
        answer = await entered.attempt(wrong(entered.code))
        assert answer.status_code == entered.wrong_status, answer.text
    assert await tries_of_the_newest_code(client) == TRIES
    late = await entered.attempt(entered.code)
    assert late.status_code == entered.wrong_status, "the right code still worked after five wrong tries"


async def test_after_four_wrong_tries_the_right_code_works(entered: Path) -> None:
    """The fifth try is still the code's: spending tries early takes none away."""
    for _ in range(TRIES - 1):
        assert (await entered.attempt(wrong(entered.code))).status_code == entered.wrong_status
    right = await entered.attempt(entered.code)
    assert right.status_code == 200, right.text


async def test_parallel_wrong_second_step_codes_get_five_comparisons_in_all(
    client: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    """Ten wrong codes at once, each with its own mfaToken: the tries are spent before any
    comparison, so five are compared and the code is then dead, right or wrong."""
    await email_factor_user(client, mailbox)
    code = await second_step_code(client, mailbox)
    tokens = [await fresh_mfa_token(client) for _ in range(10)]
    answers = await asyncio.gather(
        *(client.post("/mfa/verify", json={"mfaToken": token, "code": wrong(code)}) for token in tokens)
    )
    assert [a.status_code for a in answers] == [401] * 10
    assert await tries_of_the_newest_code(client) == TRIES
    late = await mfa_verify_with_fresh_tokens(client, "", code)
    assert late.status_code == 401


async def test_parallel_right_second_step_codes_sign_in_once(client: httpx.AsyncClient, mailbox: Mailbox) -> None:
    """The right code sent ten times at once with ten mfaTokens: one session, nine refusals."""
    await email_factor_user(client, mailbox)
    code = await second_step_code(client, mailbox)
    tokens = [await fresh_mfa_token(client) for _ in range(10)]
    answers = await asyncio.gather(
        *(client.post("/mfa/verify", json={"mfaToken": token, "code": code}) for token in tokens)
    )
    assert sorted(a.status_code for a in answers) == [200] + [401] * 9
