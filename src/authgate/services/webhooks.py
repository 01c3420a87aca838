"""Managing webhooks (`webhooks:manage`): subscribe, change, remove, rotate the secret, look
at deliveries and send one again.

The secret (`whsec_…`) is shown once, when the webhook is created or its secret rotated, and
kept sealed. A target must resolve to public addresses only (unless
AUTHGATE_WEBHOOK_ALLOW_PRIVATE=true): checked here when the URL is saved, and again by the
courier before every delivery (delivery/targets.py). Each change is one transaction with its
audit entry; the audit keeps the URL without its query, which may hold a token.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

import orjson

from authgate.core.parts import Parts
from authgate.delivery.targets import TargetRefused, parse_target, resolve
from authgate.delivery.webhooks import WEBHOOK, delivery_row, new_secret, subscribed_events
from authgate.errors import FieldError, not_found, validation_failed
from authgate.events import EVENT_TYPES, EVERY
from authgate.security.text import checked_description
from authgate.services.pagination import decode_time_cursor, encode_time_cursor
from authgate.storage.models import OutboxMessage, Webhook, new_id, utcnow
from authgate.storage.repositories import events as event_repo
from authgate.storage.repositories import outbox as outbox_repo
from authgate.storage.repositories import webhooks as webhook_repo

DEFAULT_GRACE_SECONDS = 86_400  # the previous secret keeps signing for a day after a rotation
MAX_GRACE_SECONDS = 7 * 86_400


@dataclass(frozen=True)
class WebhookChange:
    """None: leave as it is."""

    url: str | None = None
    events: list[str] | None = None
    active: bool | None = None
    description: str | None = None


@dataclass(frozen=True)
class Created:
    webhook: Webhook
    secret: str  # shown this once


@dataclass(frozen=True)
class DeliveryPage:
    items: list[OutboxMessage]
    next_cursor: str | None


async def _checked_url(rt: Parts, url: str) -> str:
    url = url.strip()
    try:
        await resolve(parse_target(url), allow_private=rt.settings.webhook_allow_private)
    except TargetRefused as refused:
        raise validation_failed(FieldError("url", str(refused))) from None
    return url


def _checked_events(events: list[str]) -> str:
    unknown = sorted({e for e in events if e != EVERY and e not in EVENT_TYPES})
    if unknown:
        raise validation_failed(
            FieldError("events", f"Unknown event types: {', '.join(unknown)}. Known: {', '.join(sorted(EVENT_TYPES))}.")
        )
    if not events:
        raise validation_failed(FieldError("events", 'Name at least one event type, or "*" for all.'))
    return orjson.dumps([EVERY] if EVERY in events else sorted(set(events))).decode()


def _shown(url: str) -> str:
    """The URL as the audit trail keeps it: no query, which may carry a token."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


async def list_webhooks(rt: Parts) -> list[Webhook]:
    async with rt.read() as db:
        return await webhook_repo.all_webhooks(db)


async def get_webhook(rt: Parts, *, webhook_id: str) -> Webhook:
    async with rt.read() as db:
        webhook = await webhook_repo.get(db, webhook_id=webhook_id)
    if webhook is None:
        raise not_found("No such webhook.")
    return webhook


async def create_webhook(rt: Parts, *, url: str, events: list[str], active: bool, description: str | None) -> Created:
    url = await _checked_url(rt, url)
    now, webhook_id, secret = utcnow(), new_id(), new_secret()
    webhook = Webhook(
        id=webhook_id,
        url=url,
        events=_checked_events(events),
        active=active,
        description=checked_description(description),
        secret=rt.box.seal(secret, context=webhook_id),
        created_at=now,
        updated_at=now,
    )
    async with rt.uow() as tx:
        await webhook_repo.add(tx.db, webhook=webhook)
        events_list = subscribed_events(webhook)
        tx.audit("webhook.created", user_id=None, webhook=webhook_id, url=_shown(url), events=events_list)
        if active:
            tx.on_commit(rt.courier.listeners_changed)
    return Created(webhook, secret)


async def update_webhook(rt: Parts, *, webhook_id: str, change: WebhookChange) -> Webhook:
    url = await _checked_url(rt, change.url) if change.url is not None else None
    events = _checked_events(change.events) if change.events is not None else None
    async with rt.uow() as tx:
        webhook = await webhook_repo.lock(tx.db, webhook_id=webhook_id)
        if webhook is None:
            raise not_found("No such webhook.")
        changed: list[str] = []
        for name, value in (("url", url), ("events", events), ("active", change.active)):
            if value is not None and getattr(webhook, name) != value:
                setattr(webhook, name, value)
                changed.append(name)
        if change.description is not None and webhook.description != checked_description(change.description):
            webhook.description = checked_description(change.description)
            changed.append("description")
        if changed:
            webhook.updated_at = utcnow()
            await tx.db.flush()
            tx.audit("webhook.updated", user_id=None, webhook=webhook_id, url=_shown(webhook.url), fields=changed)
            if webhook.active:
                tx.on_commit(rt.courier.listeners_changed)
    return webhook


async def delete_webhook(rt: Parts, *, webhook_id: str) -> None:
    """The webhook goes, and its deliveries with it (those still pending are not sent)."""
    async with rt.uow() as tx:
        webhook = await webhook_repo.lock(tx.db, webhook_id=webhook_id)
        if webhook is None:
            raise not_found("No such webhook.")
        await outbox_repo.remove_for_recipient(tx.db, recipient=webhook_id)
        await webhook_repo.remove(tx.db, webhook_id=webhook_id)
        tx.audit("webhook.deleted", user_id=None, webhook=webhook_id, url=_shown(webhook.url))


async def rotate_secret(rt: Parts, *, webhook_id: str, grace_seconds: int | None) -> Created:
    """A new secret; the previous one keeps signing beside it for `grace_seconds` (0: stops at
    once), so that the receiver can be switched over without failing a delivery."""
    grace = DEFAULT_GRACE_SECONDS if grace_seconds is None else grace_seconds
    if not 0 <= grace <= MAX_GRACE_SECONDS:
        raise validation_failed(FieldError("graceSeconds", f"From 0 to {MAX_GRACE_SECONDS} seconds."))
    secret = new_secret()
    async with rt.uow() as tx:
        webhook = await webhook_repo.lock(tx.db, webhook_id=webhook_id)
        if webhook is None:
            raise not_found("No such webhook.")
        now = utcnow()
        webhook.previous_secret = webhook.secret if grace else None
        webhook.previous_secret_until = now + timedelta(seconds=grace) if grace else None
        webhook.secret = rt.box.seal(secret, context=webhook_id)
        webhook.updated_at = now
        await tx.db.flush()
        tx.audit("webhook.secret_rotated", user_id=None, webhook=webhook_id, graceSeconds=grace)
    return Created(webhook, secret)


async def list_deliveries(rt: Parts, *, webhook_id: str, cursor: str | None, limit: int) -> DeliveryPage:
    """Newest first; the cursor is the last shown delivery's (created_at, id)."""
    before = decode_time_cursor(cursor) if cursor else None
    await get_webhook(rt, webhook_id=webhook_id)
    async with rt.read() as db:
        rows = await outbox_repo.for_recipient(db, recipient=webhook_id, before=before, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if rows else None
    return DeliveryPage(rows, encode_time_cursor(last.created_at, last.id) if more and last else None)


async def redeliver(rt: Parts, *, webhook_id: str, delivery_id: str) -> OutboxMessage:
    """Send a delivery's event again, as a new delivery with the same `webhook-id` (so that a
    receiver that did get it can tell); the old one stays as it was, for the record."""
    async with rt.uow() as tx:
        webhook = await webhook_repo.lock(tx.db, webhook_id=webhook_id)
        old = await outbox_repo.get_for_recipient(tx.db, message_id=delivery_id, recipient=webhook_id)
        if webhook is None or old is None or old.channel != WEBHOOK or old.event_id is None:
            raise not_found("No such delivery.")
        event = await event_repo.get(tx.db, event_id=old.event_id)
        if event is None:
            raise not_found("The event of this delivery is no longer kept.")
        row = delivery_row(webhook_id, event, utcnow())
        await outbox_repo.add(tx.db, row=row)
        tx.audit("webhook.redelivered", user_id=None, webhook=webhook_id, delivery=delivery_id, event=event.id)
        tx.on_commit(rt.courier.poke)
    return row
