"""Sending email and SMS (docs/email-and-codes.md); unset, messages are logged and kept in the outbox."""

from __future__ import annotations

from pydantic import Field

from authgate.settings.base import Section
from authgate.settings.types import AbsoluteUrl, BlankIsUnset


class DeliverySettings(Section):
    smtp_host: BlankIsUnset = None
    """When set, mail goes out over SMTP; otherwise it is logged (without its body) and kept in the outbox
    (docs/email-and-codes.md)."""
    smtp_port: int = Field(default=587, ge=1, le=65_535)
    """The SMTP server's port."""
    smtp_username: BlankIsUnset = None
    """SMTP login, if the server asks for one."""
    smtp_password: BlankIsUnset = Field(default=None, repr=False)
    """SMTP password."""
    smtp_starttls: bool = True
    """Upgrade the SMTP connection with STARTTLS."""
    smtp_from: BlankIsUnset = None
    """The sender address; unset: `no-reply@<public host>`."""
    smtp_timeout_seconds: float = Field(default=15.0, gt=0)
    """How long one SMTP conversation may take."""
    sms_webhook_url: AbsoluteUrl = None
    """Each SMS is a `POST {"to", "body"}` (JSON) here; unset: logged and kept in the outbox."""
    delivery_retry_base_seconds: float = Field(default=2.0, gt=0)
    """The first wait before a failed mail or SMS is tried again (it doubles each time)."""
    delivery_max_attempts: int = Field(default=8, ge=1)
    """Attempts before a mail or SMS is given up."""
