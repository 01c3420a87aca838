"""Webhook deliveries: the courier's handler that posts one event to one webhook, signed per
the Standard Webhooks specification, and the feeder that fans new events out to the webhooks
that subscribe to them.

A delivery is a `POST` of `{"type", "timestamp", "data"}` with `webhook-id` (the event id,
the same on every retry, so receivers can drop duplicates), `webhook-timestamp` (when this
attempt was made) and `webhook-signature` (`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`
under each current secret: after a rotation, the previous secret signs too until its grace
period ends). Any 2xx answer is success; anything else, a redirect included, a timeout, or a
target that now resolves to a refused address, is a failed attempt.
"""

from __future__ import annotations

import base64
import secrets
from datetime import datetime

import httpx
import orjson
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from standardwebhooks.webhooks import Webhook as Signer

from authgate.delivery.base import DeliveryError
from authgate.delivery.outbox import Done
from authgate.delivery.targets import parse_target, pinned, resolve
from authgate.events import wants
from authgate.security.crypto import SecretBox
from authgate.storage.models import EventRecord, OutboxMessage, Webhook, new_id, utcnow
from authgate.storage.models.outbox import CANCELLED, PENDING, SENT
from authgate.storage.repositories import events as event_repo
from authgate.storage.repositories import webhooks as webhook_repo
from authgate.wire import iso_z

WEBHOOK = "webhook"  # the outbox channel
SECRET_PREFIX = "whsec_"  # noqa: S105 (the Standard Webhooks prefix, not a secret)
FAN_OUT_BATCH = 200


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def signing_secrets(box: SecretBox, webhook: Webhook, now: datetime) -> list[str]:
    """The current secret, and the previous one while its grace period lasts."""
    found = [box.open(webhook.secret, context=webhook.id)]
    if webhook.previous_secret and webhook.previous_secret_until and webhook.previous_secret_until > now:
        found.append(box.open(webhook.previous_secret, context=webhook.id))
    return found


def subscribed_events(webhook: Webhook) -> list[str]:
    events: list[str] = orjson.loads(webhook.events)
    return events


def event_body(event: EventRecord) -> str:
    body = {"type": event.type, "timestamp": iso_z(event.at), "data": orjson.loads(event.data)}
    return orjson.dumps(body).decode("utf-8")


def signed_headers(secret_list: list[str], *, message_id: str, at: datetime, body: str) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": " ".join(Signer(secret).sign(message_id, at, body) for secret in secret_list),
    }


def delivery_row(webhook_id: str, event: EventRecord, now: datetime) -> OutboxMessage:
    return OutboxMessage(
        id=new_id(),
        channel=WEBHOOK,
        kind=event.type,
        recipient=webhook_id,
        event_id=event.id,
        payload=None,  # built from the event at each attempt
        status=PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )


class WebhookHandler:
    via = WEBHOOK

    def __init__(
        self,
        *,
        reads: async_sessionmaker[AsyncSession],
        box: SecretBox,
        timeout: float,
        allow_private: bool,
        max_attempts: int,
        retry_base_seconds: float,
    ) -> None:
        self._reads = reads  # lookups only: no transaction (on SQLite, no write lock) for them
        self._box = box
        self.timeout = timeout
        self.allow_private = allow_private
        self.max_attempts = max_attempts
        self.retry_base_seconds = retry_base_seconds
        self.longest_send_seconds = timeout  # name resolution and the request together
        self._client: httpx.AsyncClient | None = None  # made on the first delivery (about 7 MB)

    async def deliver(self, row: OutboxMessage) -> Done:
        async with self._reads() as db:
            webhook = await webhook_repo.get(db, webhook_id=row.recipient)
            event = await event_repo.get(db, event_id=row.event_id) if row.event_id else None
        if webhook is None or event is None or not webhook.active:
            return Done(CANCELLED)  # deleted or switched off since the event was fanned out
        target = parse_target(webhook.url)
        addresses = await resolve(target, allow_private=self.allow_private)
        now = utcnow()
        try:
            signing = signing_secrets(self._box, webhook, now)
        except ValueError:
            raise DeliveryError("the stored secret does not open (was the encryption key changed?)") from None
        body = event_body(event)
        headers = signed_headers(signing, message_id=event.id, at=now, body=body)
        await self._post(target, addresses, headers, body)
        return Done(SENT)

    async def _post(self, target: httpx.URL, addresses: list[str], headers: dict[str, str], body: str) -> None:
        failure = "no address to call"
        for address in addresses:
            url, host, extensions = pinned(target, address)
            try:
                async with self._http().stream(
                    "POST", url, content=body, headers={**headers, **host}, extensions=extensions
                ) as response:
                    status = response.status_code  # the body is never read: it could be anything
            except httpx.ConnectError:
                failure = "connection refused or unreachable"
                continue  # the host's next address
            except httpx.TimeoutException:
                raise DeliveryError(f"timed out after {self.timeout:g} s") from None
            except httpx.HTTPError as exc:
                raise DeliveryError(f"request failed: {type(exc).__name__}") from None
            if not 200 <= status < 300:
                raise DeliveryError(f"answered HTTP {status}")
            return
        raise DeliveryError(failure)

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            # No proxy from the environment: the request must reach the address that was checked.
            self._client = httpx.AsyncClient(
                timeout=self.timeout,
                follow_redirects=False,
                trust_env=False,
                headers={"User-Agent": "authgate-webhooks"},
            )
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()


class EventFanOut:
    """Takes new events and writes one delivery per active webhook that subscribes to them
    and existed when they happened, in one transaction: an event is either fanned out whole,
    or still waiting for the next pass."""

    batch = FAN_OUT_BATCH

    def __init__(self, db: async_sessionmaker[AsyncSession]) -> None:
        self._db = db
        # Whether each new event wakes the courier: while no webhook is active, events are
        # only stamped as dispatched, and the courier's poll does that for all of them at once.
        self.eager = True

    async def feed(self) -> int:
        async with self._db.begin() as db:
            now = utcnow()
            events = await event_repo.claim_undispatched(db, now=now, limit=self.batch)
            if not events:
                return 0
            webhooks = [(w.id, w.created_at, subscribed_events(w)) for w in await webhook_repo.active(db)]
            self.eager = bool(webhooks)
            db.add_all(
                delivery_row(webhook_id, event, now)
                for event in events
                for webhook_id, since, subscribed in webhooks
                if since <= event.at and wants(subscribed, event.type)  # nothing from before it existed
            )
        return len(events)
