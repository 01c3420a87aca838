"""Emailed links (verification, reset, magic link), one-time codes, and the code second factor.

Secrets are never stored: links keep the SHA-256 of their token, codes an HMAC bound to the row.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from authgate.storage.models.base import Base, UTCDateTime, new_id, utcnow


class LinkToken(Base):
    """One emailed link. `email` is the address it was sent to: a link proves control of that
    address only, so it verifies nothing once the account's email has changed. A row without a
    user is a decoy written for an unknown account (so both paths do the same work); it is never
    sent and matches no one."""

    __tablename__ = "link_tokens"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str | None] = mapped_column(String(36), ForeignKey("users.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(16))  # verify_email | reset_password | magic_link
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(254))
    redirect_to: Mapped[str | None] = mapped_column(String(2048))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_link_tokens_user_id", "user_id"),)


class OneTimeCode(Base):
    """A 6-digit code sent by SMS or email; `attempts` counts every check, right or wrong.
    Without a user, a decoy (see LinkToken)."""

    __tablename__ = "otp_codes"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str | None] = mapped_column(String(36), ForeignKey("users.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(8))  # sms | email
    destination: Mapped[str] = mapped_column(String(254))
    purpose: Mapped[str] = mapped_column(String(8))  # login | verify | mfa
    code_hash: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_otp_codes_lookup", "channel", "destination", "purpose"),
        Index("ix_otp_codes_user_id", "user_id"),
    )


class OtpFactor(Base):
    """The SMS/email code second factor, on for a user when this row exists."""

    __tablename__ = "otp_factors"

    user_id: Mapped[str] = mapped_column(String(36), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
