"""Account enumeration (ASVS 6.3.8; django-allauth's timing fixes): the endpoints that take an
address or a login answer a known account and an unknown one alike, in what they say (status,
body, headers) and in how long they take.

The timing tests compare medians of interleaved requests with a real bcrypt cost, and allow a
factor of 2 to 3 either way: a skipped hash or a mail sent while the client waits makes a
difference of ten times or more, which no noise on a shared machine hides."""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable

import httpx
import pytest

from tests.support.app import ClientFactory
from tests.support.delivery import delivery_settings
from tests.support.http import STRONG_PASSWORD, register
from tests.support.mail import Mailbox
from tests.support.sms import SmsReceiver

KNOWN, UNKNOWN = "ada@example.com", "nobody@example.com"
KNOWN_PHONE, UNKNOWN_PHONE = "+14155550100", "+14155550199"
VOLATILE = {"date", "content-length"}

# Each: path, then the body for an identifier (an address, or a phone for the SMS code).
ASKS = {
    "login": ("/login", lambda who: {"email": who, "password": "Wrong-Pass-123"}),
    "password_forgot": ("/password/forgot", lambda who: {"email": who}),
    "magic_link": ("/login/magic", lambda who: {"email": who}),
    "email_verify": ("/email/verify", lambda who: {"email": who}),
    "otp_send_email": ("/otp/send", lambda who: {"channel": "email", "email": who}),
    "otp_send_sms": ("/otp/send", lambda who: {"channel": "sms", "phone": who}),
}


def who(ask: str, known: bool) -> str:
    if ask == "otp_send_sms":
        return KNOWN_PHONE if known else UNKNOWN_PHONE
    return KNOWN if known else UNKNOWN


async def _account(client: httpx.AsyncClient) -> None:
    body = {"email": KNOWN, "password": STRONG_PASSWORD, "phone": KNOWN_PHONE}
    assert (await client.post("/register", json=body)).status_code == 201


@pytest.mark.parametrize("ask", ASKS)
async def test_known_and_unknown_accounts_get_the_same_answer(
    make_client: ClientFactory, mailbox: Mailbox, sms: SmsReceiver, ask: str
) -> None:
    path, body = ASKS[ask]
    async with make_client(**delivery_settings(mailbox, sms)) as client:
        await _account(client)
        known = await client.post(path, json=body(who(ask, True)))
        unknown = await client.post(path, json=body(who(ask, False)))
    assert known.status_code == unknown.status_code and known.status_code in {202, 401}
    assert known.content == unknown.content
    assert {k for k in known.headers if k not in VOLATILE} == {k for k in unknown.headers if k not in VOLATILE}
    assert [(k, v) for k, v in known.headers.items() if k not in VOLATILE] == [
        (k, v) for k, v in unknown.headers.items() if k not in VOLATILE
    ]


async def _timed(send: Callable[[], Awaitable[httpx.Response]], runs: list[float]) -> None:
    started = time.perf_counter()
    answer = await send()
    runs.append(time.perf_counter() - started)
    assert answer.status_code in {202, 401}, answer.text  # never locked or limited: each did the full work


async def _timings(client: httpx.AsyncClient, path: str, known: dict[str, str], unknown: dict[str, str]) -> float:
    """median(known) / median(unknown), from interleaved requests after a warm-up of each."""
    known_runs: list[float] = []
    unknown_runs: list[float] = []
    for _ in range(2):
        await client.post(path, json=known)
        await client.post(path, json=unknown)
    for _ in range(11):
        await _timed(lambda: client.post(path, json=known), known_runs)
        await _timed(lambda: client.post(path, json=unknown), unknown_runs)
    return statistics.median(known_runs) / statistics.median(unknown_runs)


async def test_timing_of_a_login_is_the_same_for_known_and_unknown_accounts(make_client: ClientFactory) -> None:
    """An unknown account is checked against a dummy hash of the same cost: a login that
    skipped the hash would answer in a tenth of the time and name every registered address."""
    async with make_client(bcrypt_rounds=10, lockout_threshold=1000) as client:
        await register(client, email=KNOWN)
        ratio = await _timings(client, "/login", ASKS["login"][1](KNOWN), ASKS["login"][1](UNKNOWN))
    assert 0.5 < ratio < 2.0, ratio


@pytest.mark.parametrize("ask", [a for a in ASKS if a != "login"])
async def test_timing_of_link_and_code_requests_is_the_same_for_known_and_unknown_accounts(
    make_client: ClientFactory, mailbox: Mailbox, sms: SmsReceiver, ask: str
) -> None:
    """Mail and texts leave later, from the outbox, for known and unknown alike: the answer
    never waits for an SMTP server or an SMS provider that only a known account would reach."""
    path, body = ASKS[ask]
    async with make_client(**delivery_settings(mailbox, sms)) as client:
        await _account(client)
        ratio = await _timings(client, path, body(who(ask, True)), body(who(ask, False)))
    assert 1 / 3 < ratio < 3, ratio
