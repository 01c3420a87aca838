"""What a use case appends in its own transaction: the audit trail and the event outbox.

Both are written through the unit of work (`tx.audit`, `tx.emit`), so an entry exists exactly
when the change it describes committed. Reading the audit trail and delivering events
(webhooks) are built on these tables.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from authgate.storage.models.base import Base, UTCDateTime, new_id, utcnow


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    type: Mapped[str] = mapped_column(String(48))
    user_id: Mapped[str | None] = mapped_column(String(36))  # no foreign key: the trail outlives the account
    actor_id: Mapped[str | None] = mapped_column(String(36))
    ip_address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(512))
    data: Mapped[str | None] = mapped_column(Text)  # JSON; never a secret

    __table_args__ = (Index("ix_audit_log_user_id_at", "user_id", "at"), Index("ix_audit_log_at", "at"))


class EventRecord(Base):
    __tablename__ = "events"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    type: Mapped[str] = mapped_column(String(48))
    data: Mapped[str] = mapped_column(Text)  # JSON

    __table_args__ = (Index("ix_events_at", "at"),)
