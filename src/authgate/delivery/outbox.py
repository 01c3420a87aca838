"""The outbox and its courier: requests only write a row (in their own transaction) and poke;
a background task started with the app sends due rows, retries failures with exponential
backoff, records every attempt, and resumes whatever is pending after a restart.

Bodies carry live links and codes, so they are sealed at rest (AES-GCM, bound to the row id)
and erased once a provider has taken the message, when it has expired, or when we give up.
"""

from __future__ import annotations

import asyncio
import random
from contextlib import suppress
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from authgate.delivery.base import EMAIL, SMS, Channel, DeliveryError, Message, mask_recipient
from authgate.delivery.log import LogChannel
from authgate.delivery.sms_http import SmsWebhookChannel
from authgate.delivery.smtp import SmtpChannel
from authgate.observability.logging import get_logger
from authgate.security.crypto import SecretBox
from authgate.settings import Settings
from authgate.storage.models import OutboxMessage, new_id, utcnow
from authgate.storage.models.outbox import LOGGED, PENDING, SENT, SUPPRESSED
from authgate.storage.repositories import outbox as outbox_repo

log = get_logger("authgate.delivery")

MAX_BACKOFF_SECONDS = 3600.0


def channels_from_settings(settings: Settings) -> dict[str, Channel]:
    email: Channel = LogChannel(EMAIL)
    if settings.smtp_host:
        email = SmtpChannel(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.mail_from,
            username=settings.smtp_username,
            password=settings.smtp_password,
            starttls=settings.smtp_starttls,
            timeout=settings.smtp_timeout_seconds,
        )
    sms: Channel = SmsWebhookChannel(url=settings.sms_webhook_url) if settings.sms_webhook_url else LogChannel(SMS)
    return {EMAIL: email, SMS: sms}


def pending_row(box: SecretBox, message: Message, *, kind: str, expires_at: datetime | None) -> OutboxMessage:
    row_id = new_id()
    now = utcnow()
    return OutboxMessage(
        id=row_id,
        channel=message.channel,
        kind=kind,
        recipient=message.to,
        payload=box.seal(message.to_json(), context=row_id),
        status=PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        expires_at=expires_at,
    )


def suppressed(row: OutboxMessage) -> OutboxMessage:
    """The row an unknown account gets in place of a real one: built the same way (so both
    paths cost the same), then stripped of its body and marked never to be sent."""
    row.status = SUPPRESSED
    row.payload = None
    return row


def open_payload(box: SecretBox, row: OutboxMessage) -> Message:
    if row.payload is None:
        raise ValueError("the message has no body")
    return Message.from_json(box.open(row.payload, context=row.id))


class Courier:
    def __init__(
        self,
        *,
        db: async_sessionmaker[AsyncSession],
        box: SecretBox,
        channels: dict[str, Channel],
        retry_base_seconds: float,
        max_attempts: int,
        lease: timedelta = timedelta(seconds=60),
        poll_seconds: float = 5.0,
        batch: int = 20,
        concurrency: int = 8,
        settle_seconds: float = 0.05,
    ) -> None:
        self._db = db
        self._box = box
        self.channels = channels
        self.retry_base_seconds = retry_base_seconds
        self.max_attempts = max_attempts
        self.lease = lease
        self.poll_seconds = poll_seconds
        self.batch = batch
        self.settle_seconds = settle_seconds
        self._limit = asyncio.Semaphore(concurrency)
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name="authgate-courier")

    def poke(self) -> None:
        """Something was just queued: look now rather than at the next poll."""
        self._wake.set()

    async def close(self, grace_seconds: float = 5.0) -> None:
        """Let a send in flight finish (up to `grace_seconds`), then stop and close channels."""
        self._stopping = True
        self._wake.set()
        task, self._task = self._task, None
        if task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(task), grace_seconds)
            except TimeoutError:
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task
        for channel in self.channels.values():
            await channel.close()

    def backoff(self, attempts: int) -> float:
        delay: float = min(self.retry_base_seconds * 2.0 ** max(0, attempts - 1), MAX_BACKOFF_SECONDS)
        return delay * random.uniform(0.8, 1.2)

    async def run_once(self) -> int:
        """Claim and send the rows that are due; returns how many were claimed."""
        async with self._db.begin() as db:
            rows = await outbox_repo.claim_due(db, now=utcnow(), lease=self.lease, limit=self.batch)
        if rows:
            await asyncio.gather(*(self._deliver(row) for row in rows))
        return len(rows)

    async def _deliver(self, row: OutboxMessage) -> None:
        async with self._limit:
            if row.expires_at is not None and row.expires_at <= utcnow():
                async with self._db.begin() as db:
                    await outbox_repo.mark_expired(db, message_id=row.id)
                log.info("message_expired", outbox_id=row.id, kind=row.kind, attempts=row.attempts)
                return
            channel = self.channels[row.channel]
            error: str
            try:
                await channel.send(open_payload(self._box, row))
            except DeliveryError as exc:
                error = str(exc)
            except ValueError:
                error = "the stored body does not open (was the encryption key changed?)"
            except Exception as exc:  # a channel bug must not kill the courier
                error = f"unexpected {type(exc).__name__}"
                log.error("delivery_crashed", outbox_id=row.id, error_type=type(exc).__name__)
            else:
                logged = channel.name == "log"
                async with self._db.begin() as db:
                    await outbox_repo.mark_done(
                        db, message_id=row.id, status=LOGGED if logged else SENT, now=utcnow(), keep_payload=logged
                    )
                log.info(
                    "message_sent",
                    outbox_id=row.id,
                    kind=row.kind,
                    via=channel.name,
                    to=mask_recipient(row.recipient),
                    attempts=row.attempts,
                )
                return
            give_up = row.attempts >= self.max_attempts
            retry_at = None if give_up else utcnow() + timedelta(seconds=self.backoff(row.attempts))
            async with self._db.begin() as db:
                await outbox_repo.mark_failed_attempt(db, message_id=row.id, error=error, retry_at=retry_at)
            log.warning(
                "message_failed" if give_up else "message_retry",
                outbox_id=row.id,
                kind=row.kind,
                via=channel.name,
                attempts=row.attempts,
                error=error,
                retry_at=retry_at.isoformat() if retry_at else None,
            )

    async def _idle_seconds(self) -> float:
        async with self._db() as db:
            due = await outbox_repo.next_due(db)
        if due is None:
            return self.poll_seconds
        return min(self.poll_seconds, max(0.01, (due - utcnow()).total_seconds()))

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                if await self.run_once():
                    continue
                idle = await self._idle_seconds()
            except Exception as exc:  # the database being away must not end the courier
                log.error("courier_error", error_type=type(exc).__name__)
                idle = self.poll_seconds
            try:
                await asyncio.wait_for(self._wake.wait(), idle)
            except TimeoutError:
                continue
            if not self._stopping:
                # Poked by a request: let its response leave first, and do not line the work
                # up with it, so response times say nothing about whether a message went out.
                await asyncio.sleep(self.settle_seconds * random.uniform(0.5, 1.5))
