"""Webhook deliveries (docs/webhooks.md)."""

from __future__ import annotations

from pydantic import Field

from authgate.settings.base import Section


class WebhookSettings(Section):
    webhook_allow_private: bool = False
    """Allow webhook targets on loopback, private and link-local addresses (development only;
    docs/webhooks.md#which-urls-are-allowed)."""
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    """How long one webhook delivery attempt may take (at most 120)."""
    webhook_max_attempts: int = Field(default=12, ge=1, le=50)
    """Attempts before a webhook delivery becomes the dead letter."""
    webhook_retry_base_seconds: float = Field(default=10.0, gt=0)
    """The first wait between webhook attempts (doubling, at most an hour)."""
