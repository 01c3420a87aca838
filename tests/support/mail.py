"""A real SMTP server on loopback (aiosmtpd, in a thread) that keeps what authgate mails, and
reading the links and codes out of the messages."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import threading
import time
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests.support.server import PATIENCE, free_port


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

    async def wait_for(self, address: str, count: int = 1, timeout: float = PATIENCE) -> EmailMessage:
        """The `count`-th message to `address`, waiting for it to arrive."""
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.to(address)) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"no message #{count} for {address}; have {len(self.to(address))}")
            await asyncio.sleep(0.02)
        return self.to(address)[count - 1]


def wait_for_mail(box: Mailbox, address: str, count: int = 1, timeout: float = PATIENCE) -> EmailMessage:
    """Mailbox.wait_for without an event loop, for tests that drive a real server synchronously."""
    deadline = time.monotonic() + timeout
    while len(box.to(address)) < count:
        assert time.monotonic() < deadline, f"no mail #{count} for {address}"
        time.sleep(0.05)
    return box.to(address)[count - 1]


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
    """The six-digit code in a text (an SMS, or a message's plain part)."""
    found = re.search(r"\b(\d{6})\b", body)
    assert found, body
    return found.group(1)


def mail_code(message: EmailMessage) -> str:
    text = message.get_body(("plain",))
    assert text is not None
    return code_in(text.get_content())
