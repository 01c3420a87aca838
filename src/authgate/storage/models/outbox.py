"""Messages waiting to go out by email or SMS, written in the same transaction as the token or
code they carry, and delivered by the background courier (`delivery/outbox.py`)."""

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
SUPPRESSED = "suppressed"  # nothing to send (unknown account): recorded so both paths do the same work


class OutboxMessage(Base):
    __tablename__ = "outbox"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    channel: Mapped[str] = mapped_column(String(8))  # email | sms
    kind: Mapped[str] = mapped_column(String(32))  # the template: verify_email, reset_password, ...
    recipient: Mapped[str] = mapped_column(String(254))
    payload: Mapped[str | None] = mapped_column(Text)  # the rendered message, sealed (AES-GCM)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),)
