"""What a message is, and what every channel (SMTP, SMS webhook, log) promises."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Protocol

import orjson

EMAIL = "email"
SMS = "sms"


@dataclass(frozen=True)
class Message:
    channel: str  # EMAIL | SMS
    to: str
    text: str
    subject: str = ""
    html: str | None = None
    action: str | None = None  # the link or code it carries, for `authgate mail` (never sent as such)

    def to_json(self) -> str:
        return orjson.dumps(asdict(self)).decode("utf-8")

    @classmethod
    def from_json(cls, raw: str) -> Message:
        data = orjson.loads(raw)
        return cls(
            channel=str(data["channel"]),
            to=str(data["to"]),
            text=str(data["text"]),
            subject=str(data.get("subject") or ""),
            html=data.get("html"),
            action=data.get("action"),
        )


class DeliveryError(Exception):
    """A send failed; the message is safe to record (no secret, no credential, no URL query)."""


class Channel(Protocol):
    """Sends one message or raises DeliveryError (never anything else); never logs the body."""

    name: str  # "smtp", "sms_http", "log"

    async def send(self, message: Message) -> None: ...

    async def close(self) -> None: ...


def mask_recipient(to: str) -> str:
    """`a***@example.com`, `+1******0100`: enough to tell messages apart in a log."""
    if "@" in to:
        local, _, domain = to.partition("@")
        return f"{local[:1]}***@{domain}"
    return f"{to[:2]}{'*' * max(0, len(to) - 6)}{to[-4:]}" if len(to) > 6 else "***"
