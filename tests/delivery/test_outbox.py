"""Sending never blocks or fails the request: a mail server that is down, a webhook that
refuses, a restart in between; retries with backoff, attempts recorded, bodies sealed."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from sqlalchemy import select, update

from authgate.delivery.mailview import describe
from authgate.delivery.outbox import open_payload
from authgate.storage.models import OutboxMessage, utcnow
from tests.support.app import ClientFactory, runtime
from tests.support.delivery import delivery_settings, settled_outbox
from tests.support.http import register
from tests.support.mail import Mailbox, code_in, link_in
from tests.support.server import PATIENCE, free_port
from tests.support.sms import SmsReceiver


async def outbox_rows(client: httpx.AsyncClient) -> list[OutboxMessage]:
    async with runtime(client).db() as db:
        return list((await db.execute(select(OutboxMessage).order_by(OutboxMessage.created_at))).scalars())


async def wait_until(
    predicate_rows: object, client: httpx.AsyncClient, timeout: float = PATIENCE
) -> list[OutboxMessage]:
    deadline = time.monotonic() + timeout
    while True:
        rows = await outbox_rows(client)
        if predicate_rows(rows):  # type: ignore[operator]
            return rows
        if time.monotonic() > deadline:
            raise AssertionError([(r.kind, r.status, r.attempts, r.last_error) for r in rows])
        await asyncio.sleep(0.03)


async def test_smtp_down_then_back(make_client: ClientFactory) -> None:
    mailbox = Mailbox()  # a port nobody listens on yet
    async with make_client(**delivery_settings(mailbox)) as client:
        await register(client)
        response = await client.post("/password/forgot", json={"email": "ada@example.com"})
        assert response.status_code == 202  # the mail server being down is the courier's business

        rows = await wait_until(lambda rs: any(r.attempts >= 2 for r in rs), client)
        failing = next(r for r in rows if r.kind == "reset_password")
        assert failing.status == "pending" and failing.last_error and "SMTP" in failing.last_error
        assert failing.payload is not None

        mailbox.start()
        try:
            mail = await mailbox.wait_for("ada@example.com")
            rows = await wait_until(lambda rs: all(r.status == "sent" for r in rs), client)
            assert rows[0].payload is None and rows[0].sent_at is not None and rows[0].last_error is None
            link = link_in(mail, "/password/reset/")
            assert (await client.get(link)).json() == {"valid": True}
        finally:
            mailbox.stop()


async def test_a_restart_resumes_pending_messages(make_client: ClientFactory, tmp_path: object) -> None:
    mailbox = Mailbox()
    settings = delivery_settings(mailbox)
    async with make_client(**settings) as client:
        await register(client)
        await client.post("/login/magic", json={"email": "ada@example.com"})
        await wait_until(lambda rs: any(r.attempts >= 1 and r.last_error for r in rs), client)
    # The app is gone; the mail server comes up; a new app finds the row and sends it.
    mailbox.start()
    try:
        async with make_client(**settings) as client:
            mail = await mailbox.wait_for("ada@example.com")
            signed_in = await client.get(link_in(mail, "/login/magic/"))
            assert signed_in.status_code == 200
    finally:
        mailbox.stop()


async def test_webhook_refusals_are_retried(make_client: ClientFactory, mailbox: Mailbox, sms: SmsReceiver) -> None:
    sms.fail = 2
    async with make_client(**delivery_settings(mailbox, sms)) as client:
        await register(client, phone="+14155550100", options={"sendSms": True})
        text = await sms.wait_for("+14155550100")
        assert code_in(text)
        assert sms.hits == 3
        rows = await wait_until(lambda rs: any(r.status == "sent" for r in rs), client)
        assert next(r for r in rows if r.channel == "sms").attempts == 3


async def test_gives_up_after_the_last_attempt(make_client: ClientFactory) -> None:
    dead = Mailbox(port=free_port())
    async with make_client(**delivery_settings(dead), delivery_max_attempts=3) as client:
        await register(client)
        await client.post("/password/forgot", json={"email": "ada@example.com"})
        rows = await wait_until(lambda rs: any(r.status == "failed" for r in rs), client)
        failed = next(r for r in rows if r.status == "failed")
        assert failed.attempts == 3 and failed.payload is None and failed.last_error


async def test_an_expired_message_is_not_sent(make_client: ClientFactory) -> None:
    mailbox = Mailbox()
    async with make_client(**{**delivery_settings(mailbox), "delivery_retry_base_seconds": 0.3}) as client:
        await register(client)
        await client.post("/otp/send", json={"channel": "email", "email": "ada@example.com"})
        await wait_until(lambda rs: any(r.attempts >= 1 and r.last_error for r in rs), client)
        async with runtime(client).db.begin() as db:
            await db.execute(update(OutboxMessage).values(expires_at=utcnow().replace(year=2000)))
        mailbox.start()
        try:
            rows = await wait_until(lambda rs: any(r.status == "expired" for r in rs), client)
            assert rows[0].payload is None
            assert [r.status for r in await settled_outbox(client)] == ["expired"]
            assert mailbox.messages == []
        finally:
            mailbox.stop()


async def test_no_provider_logs_without_the_secret(
    make_client: ClientFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    async with make_client() as client:
        await register(client)
        await client.post("/password/forgot", json={"email": "ada@example.com"})
        rows = await wait_until(lambda rs: any(r.status == "logged" for r in rs), client)
        logged = next(r for r in rows if r.status == "logged")
        message = open_payload(runtime(client).box, logged)  # kept, sealed, for the operator
        link = link_in_text(message.text)
        token = link.rsplit("/", 1)[1]
        assert logged.payload is not None and token not in logged.payload
        out = capsys.readouterr().out
        assert "message_logged" in out and token not in out
        shown = describe(runtime(client).box, logged, body=True)  # authgate mail --body
        assert link in shown.splitlines()[0] and "Subject: Reset your password" in shown
        assert (await client.get(link)).json() == {"valid": True}


def link_in_text(text: str) -> str:
    return next(word for word in text.split() if "/password/reset/" in word)


async def test_unknown_accounts_write_a_suppressed_row(mclient: httpx.AsyncClient, mailbox: Mailbox) -> None:
    await mclient.post("/password/forgot", json={"email": "ghost@example.com"})
    rows = await outbox_rows(mclient)
    assert [(r.status, r.payload) for r in rows] == [("suppressed", None)]
