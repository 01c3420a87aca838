"""What waits to go out: email and SMS written in the same transaction as the token or code
they carry, and webhook deliveries (one row per event and subscribed webhook). The background
courier (`delivery/outbox.py`) sends them all, with one handler per channel."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from authgate.storage.models.base import Base, UTCDateTime, new_id, utcnow

PENDING = "pending"
SENT = "sent"  # handed to SMTP / the SMS webhook; the body is then erased
LOGGED = "logged"  # no provider configured: logged, and the sealed body kept here for the operator
FAILED = "failed"  # gave up after the last attempt
EXPIRED = "expired"  # what it carried had expired before it could be sent
CANCELLED = "cancelled"  # a webhook delivery whose webhook was switched off before it went out
SUPPRESSED = "suppressed"  # nothing to send (unknown account): recorded so both paths do the same work


class OutboxMessage(Base):
    __tablename__ = "outbox"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    channel: Mapped[str] = mapped_column(String(8))  # email | sms | webhook
    kind: Mapped[str] = mapped_column(String(48))  # the template (verify_email, ...) or the event type
    recipient: Mapped[str] = mapped_column(String(254))  # address, phone number, or webhook id
    event_id: Mapped[str | None] = mapped_column(String(36))  # webhook deliveries: the event carried
    payload: Mapped[str | None] = mapped_column(Text)  # the rendered message, sealed (AES-GCM)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_outbox_recipient_created_at", "recipient", "created_at"),
        Index("ix_outbox_status_created_at", "status", "created_at"),  # the purge (migration 0011)
    )
