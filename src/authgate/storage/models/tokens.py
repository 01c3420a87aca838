"""Refresh tokens: opaque secrets stored as digests, one live token per session at a time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from authgate.storage.models.base import Base, UTCDateTime, new_id, utcnow


class RefreshToken(Base):
    """One refresh token of a session. Rotation marks it `rotated_at` and records its
    successor; for the reuse grace window the successor pair is kept sealed (AES-GCM, bound to
    the session id) so that a second tab presenting this token gets the same pair back."""

    __tablename__ = "refresh_tokens"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    session_id: Mapped[str] = mapped_column(String(36), ForeignKey("sessions.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    successor_id: Mapped[str | None] = mapped_column(String(36))
    successor_sealed: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_refresh_tokens_session_id", "session_id"),
        # Small by construction: only rows whose sealed successor has not been wiped yet.
        Index(
            "ix_refresh_tokens_sealed",
            "rotated_at",
            sqlite_where=text("successor_sealed IS NOT NULL"),
            postgresql_where=text("successor_sealed IS NOT NULL"),
        ),
    )
