"""What the server deletes by itself, in batches (docs/retention.md)."""

from __future__ import annotations

from pydantic import Field

from authgate.settings.base import Section


class RetentionSettings(Section):
    retention_interval_seconds: int = Field(default=60, ge=0)
    """How often the server purges what it no longer needs (docs/retention.md); `0`: never."""
    retention_batch_size: int = Field(default=500, ge=1, le=10_000)
    """Rows one purge statement deletes at most."""
    retention_expired_seconds: int = Field(default=86_400, ge=0)
    """One-time links and codes (and their decoys) are deleted this long after they expire."""
    retention_sessions_seconds: int = Field(default=604_800, ge=0)
    """Sessions are deleted this long after they end or are revoked."""
    retention_outbox_seconds: int = Field(default=604_800, ge=0)
    """Messages and webhook deliveries are deleted this long after they were sent or given up."""
    retention_events_seconds: int = Field(default=604_800, ge=0)
    """Events are deleted this long after they were handed to the webhooks."""
