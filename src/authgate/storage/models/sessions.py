"""Signed-in devices."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from authgate.storage.models.base import Base, UTCDateTime, new_id, utcnow

# These partial indexes are partial on PostgreSQL too (migrations 0002 and 0012). Their
# `postgresql_where` is left out here: naming any `postgresql_` option loads SQLAlchemy's
# PostgreSQL dialect into every process, SQLite ones included (about 2 MB a worker). The
# migrations make the schema; these declarations mirror it, and the schema tests (which do
# not compare a partial index's condition) hold them to it.


def _digest_index(column: str) -> Index:
    """Unique, and partial (migration 0012): empty digests stay out of the index, so that
    statistics do not make the planner judge an equality lookup worse than reading the table."""
    return Index(f"ix_sessions_{column}", column, unique=True, sqlite_where=text(f"{column} IS NOT NULL"))


class Session(Base):
    """One signed-in device. Its id is the access token's `sid`.

    The session is also its refresh-token family: it holds the digest of the current refresh
    token and of the one just rotated (for the reuse grace window), and, during that window,
    the new pair sealed with `rt.box` (never in plain text). Every refresh token it ever
    retired is kept in `RetiredRefreshToken` until the session goes, so that reusing any of
    them is recognised. `expires_at` slides with each refresh but never past `ends_at`.
    """

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(String(36), ForeignKey("users.id", ondelete="CASCADE"))
    amr: Mapped[str] = mapped_column(String(64), default="pwd")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ip_address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(512))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # absolute end (AUTHGATE_SESSION_MAX_SECONDS)
    # --- refresh tokens (migration 0002) ---
    refresh_hash: Mapped[str | None] = mapped_column(String(64))
    previous_refresh_hash: Mapped[str | None] = mapped_column(String(64))
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    successor_sealed: Mapped[str | None] = mapped_column(Text)
    # --- recent proof (migration 0015): the latest re-authentication, never the sign-in ---
    reauthenticated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reauth_spent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a sensitive change used it up
    reauth_method: Mapped[str | None] = mapped_column(String(16))  # what it proved: password, totp, passkey...

    __table_args__ = (
        Index("ix_sessions_user_id", "user_id"),
        _digest_index("refresh_hash"),
        _digest_index("previous_refresh_hash"),
        # The purge of ended sessions (migration 0011).
        Index("ix_sessions_expires_at", "expires_at"),
        Index("ix_sessions_revoked_at", "revoked_at"),
        # Small by construction: only sessions whose sealed pair has not been wiped yet.
        Index(
            "ix_sessions_sealed",
            "rotated_at",
            sqlite_where=text("successor_sealed IS NOT NULL"),
        ),
    )


class RetiredRefreshToken(Base):
    """A refresh token that was rotated out (its digest): presenting it again, once the grace
    window is over, is reuse, and ends its session. Rows are written by the database itself:
    a trigger on `sessions.refresh_hash` (migration 0006) records the old digest in the very
    statement that rotates it."""

    __tablename__ = "retired_refresh_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(36), ForeignKey("sessions.id", ondelete="CASCADE"))

    __table_args__ = (Index("ix_retired_refresh_tokens_session_id", "session_id"),)
