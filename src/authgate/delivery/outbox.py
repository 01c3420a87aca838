"""The outbox and its courier: requests only write a row (in their own transaction) and poke;
one background task started with the app sends due rows of every channel (email, SMS,
webhooks) through that channel's handler, retries failures with exponential backoff and
jitter, records every attempt, gives up after the handler's last attempt (the row is then the
dead letter, status `failed`), and resumes whatever is pending after a restart.

Rows are claimed for a lease longer than any send may take (each handler bounds its own), and
a batch is never larger than what is sent at once, so no two workers, in this process or
another, send one row at the same moment; a worker that dies mid-send leaves its row to be
claimed again when the lease runs out: delivery is at least once. A send still in flight when
the process stops is given a few seconds to finish; one cut short gives its lease back, so the
next start (of any process) sends it again at once rather than after the lease.

Mail and SMS bodies carry live links and codes, so they are sealed at rest (AES-GCM, bound to
the row id) and erased once a provider has taken the message, when it has expired, or when we
give up.
"""

from __future__ import annotations

import asyncio
import random
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from authgate.delivery.base import DeliveryError, Message, mask_recipient
from authgate.observability.logging import get_logger
from authgate.security.crypto import SecretBox
from authgate.storage.models import OutboxMessage, new_id, utcnow
from authgate.storage.models.outbox import CANCELLED, PENDING, SENT, SUPPRESSED
from authgate.storage.repositories import outbox as outbox_repo

log = get_logger("authgate.delivery")

MAX_BACKOFF_SECONDS = 3600.0
LEASE_MARGIN_SECONDS = 10.0


@dataclass(frozen=True)
class Done:
    """How a delivered row is recorded."""

    status: str = SENT
    keep_payload: bool = False


class Handler(Protocol):
    """Delivers one outbox row of its channel, or raises DeliveryError."""

    via: str  # for the log: smtp, sms_http, log, webhook
    max_attempts: int
    retry_base_seconds: float
    longest_send_seconds: float  # a send never takes longer (the lease is sized from it)

    async def deliver(self, row: OutboxMessage) -> Done: ...

    async def close(self) -> None: ...


class Feeder(Protocol):
    """Turns something that waits elsewhere into outbox rows (events into webhook deliveries)."""

    batch: int  # the most one `feed` takes
    eager: bool  # someone waits for what it feeds: each new thing wakes the courier

    async def feed(self) -> int:
        """Take what waits, up to `batch`; how much was taken."""
        ...


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


def backoff(retry_base_seconds: float, attempts: int) -> float:
    """Seconds until the next try after `attempts` tries: doubling, capped at an hour, with
    ±20 % jitter so that rows failed together do not retry together."""
    delay: float = min(retry_base_seconds * 2.0 ** max(0, attempts - 1), MAX_BACKOFF_SECONDS)
    return delay * random.uniform(0.8, 1.2)


class Courier:
    def __init__(
        self,
        *,
        db: async_sessionmaker[AsyncSession],
        reads: async_sessionmaker[AsyncSession],
        handlers: dict[str, Handler],
        feeders: tuple[Feeder, ...] = (),
        poll_seconds: float = 5.0,
        concurrency: int = 16,
        settle_seconds: float = 0.05,
    ) -> None:
        self._db = db
        self._reads = reads  # for looking only (when the next row is due): no transaction
        self.handlers = handlers
        self.feeders = feeders
        self.lease = timedelta(
            seconds=max(handler.longest_send_seconds for handler in handlers.values()) + LEASE_MARGIN_SECONDS
        )
        self.poll_seconds = poll_seconds
        self.batch = concurrency  # every claimed row starts at once, well inside its lease
        self.settle_seconds = settle_seconds
        self._wake = asyncio.Event()
        self._stopping = False
        self._failing = False  # the last turn failed: its error is logged once per outage
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name="authgate-courier")

    def poke(self) -> None:
        """Something was just queued: look now rather than at the next poll."""
        self._wake.set()

    def poke_feeders(self) -> None:
        """Something a feeder takes was just committed (an event): look now if a feeder has
        anyone waiting for it. If none has (no webhook is active), nothing is lost: the next
        poll takes it, with everything else that came meanwhile, in one pass."""
        if any(feeder.eager for feeder in self.feeders):
            self._wake.set()

    def listeners_changed(self) -> None:
        """A subscriber was added or switched on in this process: every feeder wakes the
        courier again for each new thing, until a pass finds no one listening. (Another
        process learns it at its next poll.)"""
        for feeder in self.feeders:
            feeder.eager = True
        self._wake.set()

    async def close(self, grace_seconds: float = 5.0) -> None:
        """Let a send in flight finish (up to `grace_seconds`), then stop and close handlers. A
        send cut short gives its lease back (`_deliver`), so it goes out again at the next start."""
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
        for handler in self.handlers.values():
            await handler.close()

    async def run_once(self) -> bool:
        """Feed the outbox, then claim and send the rows that are due; whether more may be
        waiting now (a batch was full). A pass that took less than a batch took everything
        there was: the next one waits for a poke, a retry's time or the poll."""
        full = False
        for feeder in self.feeders:
            full |= await feeder.feed() >= feeder.batch
        if self._stopping:  # claim nothing that the stop would only cut short
            return full
        async with self._db.begin() as db:
            rows = await outbox_repo.claim_due(
                db, now=utcnow(), lease=self.lease, limit=self.batch, channels=tuple(self.handlers)
            )
        if rows:
            await asyncio.gather(*(self._deliver(row) for row in rows))
        return full or len(rows) >= self.batch

    async def _deliver(self, row: OutboxMessage) -> None:
        if row.expires_at is not None and row.expires_at <= utcnow():
            async with self._db.begin() as db:
                await outbox_repo.mark_expired(db, message_id=row.id)
            log.info("message_expired", outbox_id=row.id, kind=row.kind, attempts=row.attempts)
            return
        handler = self.handlers[row.channel]
        error: str
        try:
            async with asyncio.timeout(handler.longest_send_seconds):  # the lease depends on it
                done = await handler.deliver(row)
        except asyncio.CancelledError:
            await self._give_back(row)
            raise
        except DeliveryError as exc:
            error = str(exc)
        except TimeoutError:
            error = f"timed out after {handler.longest_send_seconds:g} s"
        except Exception as exc:  # a handler bug must not kill the courier
            error = f"unexpected {type(exc).__name__}"
            log.error("delivery_crashed", outbox_id=row.id, error_type=type(exc).__name__)
        else:
            async with self._db.begin() as db:
                await outbox_repo.mark_done(
                    db, message_id=row.id, status=done.status, now=utcnow(), keep_payload=done.keep_payload
                )
            log.info(
                "message_cancelled" if done.status == CANCELLED else "message_sent",
                outbox_id=row.id,
                kind=row.kind,
                via=handler.via,
                to=mask_recipient(row.recipient),
                attempts=row.attempts,
            )
            return
        give_up = row.attempts >= handler.max_attempts
        retry_at = None if give_up else utcnow() + timedelta(seconds=backoff(handler.retry_base_seconds, row.attempts))
        async with self._db.begin() as db:
            await outbox_repo.mark_failed_attempt(db, message_id=row.id, error=error, retry_at=retry_at)
        log.warning(
            "message_failed" if give_up else "message_retry",
            outbox_id=row.id,
            kind=row.kind,
            via=handler.via,
            attempts=row.attempts,
            error=error,
            retry_at=retry_at.isoformat() if retry_at else None,
        )

    async def _give_back(self, row: OutboxMessage) -> None:
        """The process is stopping mid-send: make the row due now instead of at the end of its
        lease. The attempt stays counted (the receiver may have had it: at least once)."""
        try:
            async with self._db.begin() as db:
                await outbox_repo.mark_failed_attempt(
                    db, message_id=row.id, error="interrupted by a shutdown", retry_at=utcnow()
                )
        except Exception as exc:  # the lease still runs out: sent again later, not lost
            log.warning("lease_not_returned", outbox_id=row.id, error_type=type(exc).__name__)
            return
        log.info("delivery_interrupted", outbox_id=row.id, kind=row.kind, attempts=row.attempts)

    async def _idle_seconds(self) -> float:
        async with self._reads() as db:
            due = await outbox_repo.next_due(db)
        if due is None:
            return self.poll_seconds
        return min(self.poll_seconds, max(0.01, (due - utcnow()).total_seconds()))

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                more = await self.run_once()
                idle = 0.0 if more else await self._idle_seconds()
            except Exception as exc:  # the database being away must not end the courier
                if not self._failing:  # one line per outage, not one per poll
                    log.error("courier_error", error_type=type(exc).__name__)
                self._failing = True
                idle = self.poll_seconds
            else:
                if self._failing:
                    log.info("courier_resumed")
                self._failing = False
                if more:
                    continue
            try:
                await asyncio.wait_for(self._wake.wait(), idle)
            except TimeoutError:
                continue
            if not self._stopping:
                # Poked by a request: let its response leave first, and do not line the work
                # up with it, so response times say nothing about whether a message went out.
                await asyncio.sleep(self.settle_seconds * random.uniform(0.5, 1.5))
