"""Webhook subscriptions: where events go, which ones, and the secret that signs them.

The secret is sealed at rest (AES-GCM, bound to the webhook id). After a rotation the
previous secret keeps signing beside the new one until `previous_secret_until`, so that a
receiver can switch over without dropping a delivery. Deliveries themselves are outbox rows
(`channel = "webhook"`, `recipient` = the webhook id, `event_id` = the event they carry).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from authgate.storage.models.base import Base, UTCDateTime, new_id, utcnow


class Webhook(Base):
    __tablename__ = "webhooks"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    url: Mapped[str] = mapped_column(String(2048))
    events: Mapped[str] = mapped_column(Text)  # JSON list of event types, or ["*"]
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    description: Mapped[str | None] = mapped_column(String(200))
    secret: Mapped[str] = mapped_column(Text)  # sealed `whsec_…`
    previous_secret: Mapped[str | None] = mapped_column(Text)  # sealed; signs too until the time below
    previous_secret_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
