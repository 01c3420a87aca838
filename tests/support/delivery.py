"""Apps that mail and text to the loopback receivers (mail.py, sms.py), waiting for the
outbox to settle, and ageing one-time secrets past their expiry."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx
from sqlalchemy import select, update

from authgate.storage.models import OneTimeSecret, OutboxMessage, utcnow
from authgate.storage.models.outbox import PENDING
from tests.support.app import runtime
from tests.support.mail import Mailbox
from tests.support.server import PATIENCE
from tests.support.sms import SmsReceiver

MessagingClientFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


def delivery_settings(mailbox: Mailbox, sms: SmsReceiver | None = None) -> dict[str, Any]:
    """Settings that send mail to `mailbox` (and texts to `sms`), retrying quickly."""
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


async def settled_outbox(client: httpx.AsyncClient, timeout: float = PATIENCE) -> list[OutboxMessage]:
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


async def expire_everything(client: httpx.AsyncClient) -> None:
    """Move every one-time secret (links, codes) past its expiry: a time machine that touches
    only the stored expiry, so the code under test runs unchanged."""
    async with runtime(client).db.begin() as db:
        await db.execute(update(OneTimeSecret).values(expires_at=utcnow().replace(year=2000)))
