"""Account enumeration (ASVS 6.3.8; django-allauth's timing fixes): the endpoints that take an
address or a login answer a known account and an unknown one alike, in what they say (status,
body, headers) and in how long they take.

How long they take is measured in what does not drift with the load on the test machine: the
password verifications a request runs (counted by the app's own metric), and the CPU time the
process spends on it (`time.process_time()`: the app runs in the test's process, its bcrypt
threads included), as medians of interleaved requests with a real bcrypt cost, allowing a
factor of 2 to 3 either way: a skipped hash or a cheaper dummy costs ten times less CPU, which
no other process on a shared machine can hide, since CPU time counts only this process's work.
What CPU time cannot see, waiting on an SMTP server or an SMS provider, is shown not to happen:
with the courier stopped, no request reaches either, and known and unknown accounts write the
same rows (the outbox's, which the courier sends from later)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable

import httpx
import pytest

from tests.support.app import ClientFactory
from tests.support.delivery import delivery_settings, settled_outbox
from tests.support.http import STRONG_PASSWORD, register
from tests.support.mail import Mailbox
from tests.support.metrics import password_hashes
from tests.support.retention import count, stop_courier
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
    started = time.process_time()
    answer = await send()
    runs.append(time.process_time() - started)
    assert answer.status_code in {202, 401}, answer.text  # never locked or limited: each did the full work


async def _timings(client: httpx.AsyncClient, path: str, known: dict[str, str], unknown: dict[str, str]) -> float:
    """median(known) / median(unknown) of the CPU time of a request, from interleaved requests
    after a warm-up of each."""
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
    skipped the hash, or checked a cheaper one, would cost a tenth of the CPU time and name
    every registered address. Each login, known or unknown, runs exactly one verification."""
    login = ASKS["login"][1]
    async with make_client(bcrypt_rounds=10, lockout_threshold=1000) as client:
        await register(client, email=KNOWN)
        verified = []
        for email in (KNOWN, UNKNOWN, KNOWN, UNKNOWN):
            before = await password_hashes(client, "verify")
            assert (await client.post("/login", json=login(email))).status_code == 401
            verified.append(await password_hashes(client, "verify") - before)
        assert verified == [1, 1, 1, 1], verified
        ratio = await _timings(client, "/login", login(KNOWN), login(UNKNOWN))
    assert 0.5 < ratio < 2.0, ratio


async def _rows_written(client: httpx.AsyncClient, path: str, body: dict[str, str]) -> tuple[int, ...]:
    """The rows one request adds to the tables a link or a code is kept in."""

    async def counts() -> tuple[int, ...]:
        return tuple([await count(client, table) for table in ("one_time_secrets", "outbox", "events")])

    before = await counts()
    assert (await client.post(path, json=body)).status_code == 202
    return tuple(after - was for after, was in zip(await counts(), before, strict=True))


@pytest.mark.parametrize("ask", [a for a in ASKS if a != "login"])
async def test_timing_of_link_and_code_requests_is_the_same_for_known_and_unknown_accounts(
    make_client: ClientFactory, mailbox: Mailbox, sms: SmsReceiver, ask: str
) -> None:
    """Mail and texts leave later, from the outbox, for known and unknown alike: the answer
    never waits for an SMTP server or an SMS provider that only a known account would reach.
    With the courier stopped, no request reaches either; each writes the same rows (a decoy
    secret and a suppressed message for an unknown account) and costs the same CPU time."""
    path, body = ASKS[ask]
    async with make_client(**delivery_settings(mailbox, sms)) as client:
        await _account(client)
        await settled_outbox(client)
        mailed, texted = len(mailbox.messages), sms.hits
        await stop_courier(client)
        known_rows = await _rows_written(client, path, body(who(ask, True)))
        unknown_rows = await _rows_written(client, path, body(who(ask, False)))
        assert known_rows == unknown_rows, (known_rows, unknown_rows)
        ratio = await _timings(client, path, body(who(ask, True)), body(who(ask, False)))
        assert (len(mailbox.messages), sms.hits) == (mailed, texted), "a request sent mail or a text itself"
    assert 1 / 3 < ratio < 3, ratio
