"""Sending limits, against a real SMTP sink and SMS receiver: every message is counted per
recipient (`send.recipient`) and every SMS against the daily budget (`sms.global`); over a
limit the request answers 429 and nothing is queued or delivered; a known and an unknown
recipient get the same answers."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from authgate.storage.models import OutboxMessage, User
from authgate.storage.models.outbox import SUPPRESSED
from tests.support.app import runtime
from tests.support.delivery import MessagingClientFactory, settled_outbox
from tests.support.http import register
from tests.support.limits import assert_limited
from tests.support.mail import Mailbox
from tests.support.sms import SmsReceiver

KNOWN_PHONE, UNKNOWN_PHONE = "+14155550100", "+14155550199"
KNOWN_EMAIL, UNKNOWN_EMAIL = "ada@example.com", "nobody@example.com"
TWO_PER_RECIPIENT = "send.recipient=2/minute"


async def rows_to(client: httpx.AsyncClient, recipient: str) -> list[OutboxMessage]:
    rows = await settled_outbox(client)
    return [row for row in rows if row.recipient.lower() == recipient.lower()]


async def answers(client: httpx.AsyncClient, path: str, bodies: list[dict[str, Any]]) -> list[tuple[int, Any]]:
    """Post each body in turn; the statuses and bodies, with the 429's headers checked. How
    long a 429 says to wait counts from that recipient's first send, so two recipients asked a
    moment apart may read a second apart on a busy machine: the figure is left out."""
    seen = []
    for body in bodies:
        response = await client.post(path, json=body)
        answer = response.json()
        if response.status_code == 429:
            assert_limited(response, limit=2)
            answer = {**answer, "detail": re.sub(r"\d+ seconds", "N seconds", answer["detail"])}
        seen.append((response.status_code, answer))
    return seen


# --- codes, per recipient ----------------------------------------------------------------------


async def test_sms_codes_per_recipient_known_and_unknown_alike(
    messaging_client: MessagingClientFactory, sms: SmsReceiver
) -> None:
    async with messaging_client(rate_limits=TWO_PER_RECIPIENT) as client:
        await register(client, phone=KNOWN_PHONE)  # unverified: gets verification codes

        def asks(phone: str) -> list[dict[str, Any]]:
            # The third spells the number differently: still the same recipient.
            spaced = f"{phone[:2]} {phone[2:5]} {phone[5:8]}-{phone[8:]}"
            return [{"channel": "sms", "purpose": "verify", "phone": p} for p in (phone, phone, spaced)]

        known = await answers(client, "/otp/send", asks(KNOWN_PHONE))
        unknown = await answers(client, "/otp/send", asks(UNKNOWN_PHONE))
        assert [status for status, _ in known] == [202, 202, 429]
        assert known == unknown

        assert len(await rows_to(client, KNOWN_PHONE)) == 2
        decoys = await rows_to(client, UNKNOWN_PHONE)
        assert len(decoys) == 2 and {row.status for row in decoys} == {SUPPRESSED}
        assert len(sms.to(KNOWN_PHONE)) == 2 and sms.to(UNKNOWN_PHONE) == []
        # Another number is not held back.
        other = await client.post("/otp/send", json={"channel": "sms", "purpose": "verify", "phone": "+14155550123"})
        assert other.status_code == 202


async def test_email_codes_per_recipient_known_and_unknown_alike(
    messaging_client: MessagingClientFactory, mailbox: Mailbox
) -> None:
    async with messaging_client(rate_limits=TWO_PER_RECIPIENT) as client:
        await register(client, email=KNOWN_EMAIL)

        def asks(email: str) -> list[dict[str, Any]]:
            return [{"channel": "email", "email": e} for e in (email, email.upper(), f" {email.title()} ")]

        known = await answers(client, "/otp/send", asks(KNOWN_EMAIL))
        unknown = await answers(client, "/otp/send", asks(UNKNOWN_EMAIL))
        assert [status for status, _ in known] == [202, 202, 429]
        assert known == unknown
        assert len(await rows_to(client, KNOWN_EMAIL)) == 2
        assert len(await rows_to(client, UNKNOWN_EMAIL)) == 2
        assert len(mailbox.to(KNOWN_EMAIL)) == 2 and mailbox.to(UNKNOWN_EMAIL) == []


# --- links, per recipient --------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/login/magic", "/password/forgot", "/email/verify"])
async def test_mailed_links_per_recipient_known_and_unknown_alike(
    messaging_client: MessagingClientFactory, mailbox: Mailbox, path: str
) -> None:
    async with messaging_client(rate_limits=TWO_PER_RECIPIENT) as client:
        await register(client, email=KNOWN_EMAIL)  # not verified: it can be sent a verification link
        known = await answers(client, path, [{"email": e} for e in (KNOWN_EMAIL, KNOWN_EMAIL, "ADA@example.com")])
        unknown = await answers(client, path, [{"email": e} for e in (UNKNOWN_EMAIL, UNKNOWN_EMAIL, UNKNOWN_EMAIL)])
        assert [status for status, _ in known] == [202, 202, 429]
        assert known == unknown
        assert len(await rows_to(client, KNOWN_EMAIL)) == 2
        assert len(await rows_to(client, UNKNOWN_EMAIL)) == 2
        assert len(mailbox.to(KNOWN_EMAIL)) == 2


async def test_the_count_is_on_the_recipient_whatever_is_sent(
    messaging_client: MessagingClientFactory, mailbox: Mailbox
) -> None:
    """A reset mail, a magic link and a code to one address share its count: asking for
    another kind of message, or a new code, starts nothing afresh."""
    async with messaging_client(rate_limits="send.recipient=3/minute") as client:
        await register(client, email=KNOWN_EMAIL)
        assert (await client.post("/password/forgot", json={"email": KNOWN_EMAIL})).status_code == 202
        assert (await client.post("/login/magic", json={"email": KNOWN_EMAIL})).status_code == 202
        assert (await client.post("/otp/send", json={"channel": "email", "email": KNOWN_EMAIL})).status_code == 202
        for path, body in [
            ("/otp/send", {"channel": "email", "email": KNOWN_EMAIL}),
            ("/password/forgot", {"email": KNOWN_EMAIL}),
            ("/email/verify", {"email": KNOWN_EMAIL}),
        ]:
            assert_limited(await client.post(path, json=body), limit=3)
        assert len(await rows_to(client, KNOWN_EMAIL)) == 3
        assert len(mailbox.to(KNOWN_EMAIL)) == 3


async def test_an_authenticated_caller_is_counted_on_its_own_address(
    messaging_client: MessagingClientFactory, mailbox: Mailbox
) -> None:
    async with messaging_client(rate_limits=TWO_PER_RECIPIENT) as client:
        token = (await register(client, email=KNOWN_EMAIL)).json()["token"]
        # Two anonymous asks for the address use up its count...
        for _ in range(2):
            assert (await client.post("/otp/send", json={"channel": "email", "email": KNOWN_EMAIL})).status_code == 202
        # ...so the signed-in owner, naming no address, is over it too.
        own = await client.post(
            "/otp/send", json={"channel": "email", "purpose": "verify"}, headers={"Authorization": f"Bearer {token}"}
        )
        assert_limited(own, limit=2)
        assert len(await rows_to(client, KNOWN_EMAIL)) == 2


# --- registering with messages ------------------------------------------------------------------


async def users_with(client: httpx.AsyncClient, email: str) -> int:
    async with runtime(client).db() as db:
        return int(await db.scalar(select(func.count()).select_from(User).where(User.email == email)) or 0)


async def test_register_with_send_sms_is_refused_whole_over_the_limit(
    messaging_client: MessagingClientFactory, sms: SmsReceiver
) -> None:
    async with messaging_client(rate_limits=TWO_PER_RECIPIENT) as client:
        # Phones are not unique: two accounts may give one number; the count is the number's.
        await register(client, email="a@example.com", phone=KNOWN_PHONE, options={"sendSms": True})
        await register(client, email="b@example.com", phone="+1 415 555 0100", options={"sendSms": True})
        refused = await client.post(
            "/register",
            json={
                "email": "c@example.com",
                "password": "Sturdy-Horse-42",
                "phone": KNOWN_PHONE,
                "options": {"sendSms": True},
            },
        )
        assert_limited(refused, limit=2)
        assert await users_with(client, "c@example.com") == 0  # rolled back: no account, no message
        assert len(await rows_to(client, KNOWN_PHONE)) == 2
        assert len(sms.to(KNOWN_PHONE)) == 2
        # Without sendSms nothing is sent, and nothing holds the registration back.
        await register(client, email="d@example.com", phone=KNOWN_PHONE)


async def test_register_counts_once_per_recipient_however_many_mails_it_asks_for(
    messaging_client: MessagingClientFactory, mailbox: Mailbox
) -> None:
    async with messaging_client(rate_limits="send.recipient=1/minute") as client:
        options = {"verifyEmail": True, "sendEmail": True}
        await register(client, email=KNOWN_EMAIL, options=options)
        await settled_outbox(client)
        assert len(mailbox.to(KNOWN_EMAIL)) == 2
        # ...and that one count is spent: the next mail to the address waits.
        assert_limited(await client.post("/email/verify", json={"email": KNOWN_EMAIL}), limit=1)


async def test_codes_sent_to_a_number_before_it_registers_count_against_it(
    messaging_client: MessagingClientFactory, sms: SmsReceiver
) -> None:
    async with messaging_client(rate_limits=TWO_PER_RECIPIENT) as client:
        for _ in range(2):  # decoys: no account has the number yet
            response = await client.post(
                "/otp/send", json={"channel": "sms", "purpose": "verify", "phone": KNOWN_PHONE}
            )
            assert response.status_code == 202
        refused = await client.post(
            "/register",
            json={
                "email": KNOWN_EMAIL,
                "password": "Sturdy-Horse-42",
                "phone": KNOWN_PHONE,
                "options": {"sendSms": True},
            },
        )
        assert_limited(refused, limit=2)
        assert await users_with(client, KNOWN_EMAIL) == 0
        await settled_outbox(client)
        assert sms.to(KNOWN_PHONE) == []


# --- the SMS budget ---------------------------------------------------------------------------


async def test_the_sms_budget_holds_across_recipients_even_with_rate_limits_off(
    messaging_client: MessagingClientFactory, sms: SmsReceiver, mailbox: Mailbox
) -> None:
    async with messaging_client(rate_limits="off", sms_daily_budget=3) as client:
        await register(client, email=KNOWN_EMAIL, phone=KNOWN_PHONE)
        send: Callable[[str], Awaitable[httpx.Response]] = lambda phone: client.post(  # noqa: E731
            "/otp/send", json={"channel": "sms", "purpose": "verify", "phone": phone}
        )
        # The budget counts what is asked for, decoys included: an exhausted budget answers
        # the same for every number, known or not.
        for phone in (UNKNOWN_PHONE, "+14155550111", KNOWN_PHONE):
            assert (await send(phone)).status_code == 202
        for phone in (KNOWN_PHONE, "+14155550122"):
            refused = await send(phone)
            assert_limited(refused, limit=3, within=86_400)
        await settled_outbox(client)
        assert len(sms.received) == 1 and len(sms.to(KNOWN_PHONE)) == 1
        async with runtime(client).db() as db:
            sms_rows = await db.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.channel == "sms")
            )
        assert sms_rows == 3
        # Mail is not SMS: it goes on.
        assert (await client.post("/otp/send", json={"channel": "email", "email": KNOWN_EMAIL})).status_code == 202
        await mailbox.wait_for(KNOWN_EMAIL)
