"""Building the messages a use case queues: links from AUTHGATE_PUBLIC_URL only (never the
request's Host or X-Forwarded-Host), rendered bodies, sealed outbox rows, and the sending
limits every message is counted against first (docs/abuse-protection.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol
from urllib.parse import quote, urlsplit

from authgate.abuse.rules import SMS_BUDGET
from authgate.delivery.base import SMS
from authgate.delivery.outbox import pending_row
from authgate.delivery.templates import render
from authgate.security.identifiers import email_key
from authgate.storage.models import OutboxMessage

if TYPE_CHECKING:
    from authgate.abuse.limiter import RateLimiter
    from authgate.security.crypto import SecretBox
    from authgate.settings import Settings

SEND_RECIPIENT = "send.recipient"
ALL_SMS = "sms"  # the one key of the SMS budget: every SMS of the deployment


class MessageParts(Protocol):
    """What building a message uses: where links point, the box that seals bodies, the limits."""

    @property
    def settings(self) -> Settings: ...
    @property
    def box(self) -> SecretBox: ...
    @property
    def limiter(self) -> RateLimiter: ...


def app_name(rt: MessageParts) -> str:
    return urlsplit(rt.settings.public_url).hostname or "authgate"


def link_url(rt: MessageParts, path: str, token: str) -> str:
    """`{PUBLIC_URL}{first route prefix}{path}{token}`: the link the email carries."""
    return f"{rt.settings.public_url}{rt.settings.route_prefixes[0]}{path}{quote(token, safe='')}"


def recipient_key(channel: str, to: str) -> str:
    """Who a message goes to, as the limits count it: a phone in E.164, an address by its key
    (so `Ada@Example.com` and `ada@example.com` are one recipient)."""
    return f"{channel}:{to if channel == SMS else email_key(to)}"


@dataclass(frozen=True)
class Allowed:
    """A message to `recipient` was counted against the sending limits. Building a message
    takes one, so no way of sending can skip the limits."""

    recipient: str


async def allow_message(rt: MessageParts, *, channel: str, to: str) -> Allowed:
    """Count one message to `to` (`send.recipient`) and, for an SMS, one against the daily
    budget (`sms.global`); 429 `rate_limited` over either. Call it before the transaction that
    queues the message, and alike for a real recipient and for the decoy of an unknown one:
    the answer must not tell them apart. A decoy SMS is never sent but still counts against
    the budget, or an exhausted budget would answer differently for numbers with an account."""
    recipient = recipient_key(channel, to)
    await rt.limiter.hit(SEND_RECIPIENT, recipient)
    if channel == SMS:
        await rt.limiter.hit(SMS_BUDGET, ALL_SMS)
    return Allowed(recipient)


def message_row(
    rt: MessageParts, *, allowed: Allowed, kind: str, channel: str, to: str, expires_at: datetime | None, **values: str
) -> OutboxMessage:
    if allowed.recipient != recipient_key(channel, to):
        raise ValueError("a message must be counted against the sending limits for its own recipient")
    message = render(kind, channel=channel, to=to, app=app_name(rt), **values)
    return pending_row(rt.box, message, kind=kind, expires_at=expires_at)
