"""The channel used when no provider is configured: it logs that a message went out (kind of
message, masked recipient), never its body, which carries a link or a code. The sealed body
stays in the outbox table, where `python -m authgate.delivery` shows it to the operator."""

from __future__ import annotations

from authgate.delivery.base import Message, mask_recipient
from authgate.observability.logging import get_logger

log = get_logger("authgate.delivery")


class LogChannel:
    name = "log"

    def __init__(self, channel: str) -> None:
        self.channel = channel

    async def send(self, message: Message) -> None:
        log.info(
            "message_logged",
            channel=message.channel,
            to=mask_recipient(message.to),
            subject=message.subject or None,
            note="no provider configured; read it with `python -m authgate.delivery`",
        )

    async def close(self) -> None:
        return None
