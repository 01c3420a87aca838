"""Identities at sign-in providers linked to accounts (social login).

An account has at most one identity per provider, and a (provider, subject) pair belongs to
at most one account: the unique keys are what make a race of two callbacks safe.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from authgate.storage.models.base import Base, UTCDateTime, new_id, utcnow


class LinkedIdentity(Base):
    __tablename__ = "linked_identities"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(String(36), ForeignKey("users.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(255))  # the provider's stable id for the person
    email: Mapped[str | None] = mapped_column(String(254))  # as the provider last gave it, for display
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("provider", "subject", name="uq_linked_identities_provider_subject"),
        UniqueConstraint("user_id", "provider", name="uq_linked_identities_user_provider"),
    )
