"""What a use case appends in its own transaction: the audit trail and the event outbox.

Both are written through the unit of work (`tx.audit`, `tx.emit`), so an entry exists exactly
when the change it describes committed. Audit entries are chained: each has its place `seq`
(1, 2, 3… with no gaps) and a keyed hash over its content and the previous entry's hash
(storage/audit_chain.py); `AuditChainHead` is the one row holding the newest place and hash.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from authgate.storage.models.base import Base, UTCDateTime, new_id, utcnow


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    seq: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    type: Mapped[str] = mapped_column(String(48))
    user_id: Mapped[str | None] = mapped_column(String(36))  # no foreign key: the trail outlives the account
    actor_id: Mapped[str | None] = mapped_column(String(36))
    ip_address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(512))
    data: Mapped[str | None] = mapped_column(Text)  # JSON; never a secret
    prev_hash: Mapped[str | None] = mapped_column(String(64))  # None only before the chain began
    hash: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_audit_log_seq", "seq", unique=True),
        Index("ix_audit_log_user_id_seq", "user_id", "seq"),
        Index("ix_audit_log_type_seq", "type", "seq"),
        Index("ix_audit_log_at", "at"),
    )


class AuditChainHead(Base):
    """The newest entry's place and hash: appending locks this row, so entries are chained
    one after another; and cutting entries off the end shows as a head that matches nothing."""

    __tablename__ = "audit_chain"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))


class EventRecord(Base):
    """An event for webhook subscribers. The courier fans each one out to the webhooks that
    want it (one outbox row per webhook) and stamps `dispatched_at` in that same transaction."""

    __tablename__ = "events"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    type: Mapped[str] = mapped_column(String(48))
    data: Mapped[str] = mapped_column(Text)  # JSON
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_events_at", "at"), Index("ix_events_dispatched_at_at", "dispatched_at", "at"))
