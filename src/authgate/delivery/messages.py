"""The courier's handler for email and SMS: open the sealed body, hand it to the channel
(SMTP, the SMS webhook, or the log when no provider is configured)."""

from __future__ import annotations

from authgate.delivery.base import EMAIL, SMS, Channel, DeliveryError
from authgate.delivery.log import LogChannel
from authgate.delivery.outbox import Done, open_payload
from authgate.delivery.sms_http import SmsWebhookChannel
from authgate.delivery.smtp import SmtpChannel
from authgate.security.crypto import SecretBox
from authgate.settings import Settings
from authgate.storage.models import OutboxMessage
from authgate.storage.models.outbox import LOGGED, SENT

SMS_TIMEOUT_SECONDS = 10.0


class MessageHandler:
    def __init__(
        self, channel: Channel, *, box: SecretBox, max_attempts: int, retry_base_seconds: float, timeout: float
    ) -> None:
        self.channel = channel
        self.via = channel.name
        self._box = box
        self.max_attempts = max_attempts
        self.retry_base_seconds = retry_base_seconds
        self.longest_send_seconds = timeout

    async def deliver(self, row: OutboxMessage) -> Done:
        try:
            message = open_payload(self._box, row)
        except ValueError:
            raise DeliveryError("the stored body does not open (was the encryption key changed?)") from None
        await self.channel.send(message)
        logged = self.channel.name == "log"  # no provider: the operator reads the body in the outbox
        return Done(LOGGED if logged else SENT, keep_payload=logged)

    async def close(self) -> None:
        await self.channel.close()


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
    sms: Channel = (
        SmsWebhookChannel(url=settings.sms_webhook_url, timeout=SMS_TIMEOUT_SECONDS)
        if settings.sms_webhook_url
        else LogChannel(SMS)
    )
    return {EMAIL: email, SMS: sms}


def message_handlers(settings: Settings, box: SecretBox) -> dict[str, MessageHandler]:
    timeouts = {EMAIL: settings.smtp_timeout_seconds, SMS: SMS_TIMEOUT_SECONDS}
    return {
        name: MessageHandler(
            channel,
            box=box,
            max_attempts=settings.delivery_max_attempts,
            retry_base_seconds=settings.delivery_retry_base_seconds,
            timeout=timeouts[name],
        )
        for name, channel in channels_from_settings(settings).items()
    }
