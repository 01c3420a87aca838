"""Real receivers for what authgate sends: an SMTP server on loopback (aiosmtpd) and an HTTP
endpoint for the SMS webhook, both in threads; tests read links and codes out of what
arrived and follow them over HTTP."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import re
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from email.message import EmailMessage
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from authgate.storage.models import OneTimeSecret, OutboxMessage, utcnow
from authgate.storage.models.outbox import PENDING
from tests.conftest import ClientFactory
from tests.e2e.server import free_port
from tests.helpers import runtime


class Mailbox:
    """An SMTP server on 127.0.0.1 that keeps every message; can be stopped and started again
    on the same port (to play a mail server that is down, then back)."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.messages: list[EmailMessage] = []
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        with self._lock:
            self.messages.append(parsed)
        return "250 Message accepted"

    def start(self) -> None:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def to(self, address: str) -> list[EmailMessage]:
        with self._lock:
            return [m for m in self.messages if m["To"] == address]

    async def wait_for(self, address: str, count: int = 1, timeout: float = 10.0) -> EmailMessage:
        """The `count`-th message to `address`, waiting for it to arrive."""
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.to(address)) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"no message #{count} for {address}; have {len(self.to(address))}")
            await asyncio.sleep(0.02)
        return self.to(address)[count - 1]


class SmsReceiver:
    """An HTTP endpoint that records `{"to", "body"}` posts; answers 500 `fail` times first."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.fail = 0
        self.hits = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = json.loads(self.rfile.read(length))
                receiver.hits += 1
                if receiver.fail > 0:
                    receiver.fail -= 1
                    self.send_response(500)
                    self.end_headers()
                    return
                receiver.received.append({"body": body, "content_type": self.headers.get("content-type")})
                self.send_response(202)
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/sms"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def to(self, phone: str) -> list[str]:
        return [r["body"]["body"] for r in self.received if r["body"]["to"] == phone]

    async def wait_for(self, phone: str, count: int = 1, timeout: float = 10.0) -> str:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.to(phone)) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"no SMS #{count} for {phone}")
            await asyncio.sleep(0.02)
        return self.to(phone)[count - 1]


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    box.start()
    yield box
    box.stop()


@pytest.fixture
def sms() -> Iterator[SmsReceiver]:
    receiver = SmsReceiver()
    receiver.start()
    yield receiver
    receiver.stop()


def delivery_settings(mailbox: Mailbox, sms: SmsReceiver | None = None) -> dict[str, Any]:
    values: dict[str, Any] = {
        "smtp_host": "127.0.0.1",
        "smtp_port": mailbox.port,
        "smtp_starttls": False,
        "smtp_from": "auth@testserver.example",
        "delivery_retry_base_seconds": 0.05,
    }
    if sms is not None:
        values["sms_webhook_url"] = sms.url
    return values


MessagingClientFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def messaging_client(make_client: ClientFactory, mailbox: Mailbox, sms: SmsReceiver) -> MessagingClientFactory:
    """`async with messaging_client(**overrides) as client:` an app that mails to `mailbox`
    and texts to `sms`."""

    return partial(make_client, **delivery_settings(mailbox, sms))  # keywords given at the call win


@pytest.fixture
async def mclient(messaging_client: MessagingClientFactory) -> AsyncIterator[httpx.AsyncClient]:
    async with messaging_client() as client:
        yield client


async def settled_outbox(client: httpx.AsyncClient, timeout: float = 10.0) -> list[OutboxMessage]:
    """Every outbox row, oldest first, once none is `pending`: the courier has then done all it
    will (sent, suppressed, expired, failed), so "nothing else was sent" can be asserted on a
    positive signal rather than after a sleep that may be too short on a slow machine."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        async with runtime(client).db() as db:
            rows = list((await db.execute(select(OutboxMessage).order_by(OutboxMessage.created_at))).scalars())
        pending = [(r.kind, r.channel, r.attempts, r.last_error) for r in rows if r.status == PENDING]
        if not pending:
            return rows
        if loop.time() > deadline:
            raise AssertionError(f"outbox rows still pending after {timeout}s: {pending}")
        await asyncio.sleep(0.02)


def link_in(message: EmailMessage, path: str) -> str:
    """The link to `path` in the text part, checked to be in the HTML part too."""
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    found = re.search(r"(https?://\S*" + re.escape(path) + r"[A-Za-z0-9_\-]+)", text.get_content())
    assert found, text.get_content()
    assert found.group(1) in html.get_content()
    return found.group(1)


def code_in(body: str) -> str:
    found = re.search(r"\b(\d{6})\b", body)
    assert found, body
    return found.group(1)


def mail_code(message: EmailMessage) -> str:
    text = message.get_body(("plain",))
    assert text is not None
    return code_in(text.get_content())


async def expire_everything(client: httpx.AsyncClient) -> None:
    """Move every one-time secret (links, codes) past its expiry: a time machine that touches
    only the stored expiry, so the code under test runs unchanged."""
    async with runtime(client).db.begin() as db:
        await db.execute(update(OneTimeSecret).values(expires_at=utcnow().replace(year=2000)))
