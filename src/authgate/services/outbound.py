"""Building the messages a use case queues: links from AUTHGATE_PUBLIC_URL only (never the
request's Host or X-Forwarded-Host), rendered bodies, sealed outbox rows."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote, urlsplit

from authgate.delivery.outbox import pending_row
from authgate.delivery.templates import render
from authgate.services.runtime import Runtime
from authgate.storage.models import OutboxMessage


def app_name(rt: Runtime) -> str:
    return urlsplit(rt.settings.public_url).hostname or "authgate"


def link_url(rt: Runtime, path: str, token: str) -> str:
    """`{PUBLIC_URL}{first route prefix}{path}{token}`: the link the email carries."""
    return f"{rt.settings.public_url}{rt.settings.route_prefixes[0]}{path}{quote(token, safe='')}"


def message_row(
    rt: Runtime, *, kind: str, channel: str, to: str, expires_at: datetime | None, **values: str
) -> OutboxMessage:
    message = render(kind, channel=channel, to=to, app=app_name(rt), **values)
    return pending_row(rt.box, message, kind=kind, expires_at=expires_at)
