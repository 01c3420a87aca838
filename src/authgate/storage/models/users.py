"""Accounts, and the roles that give them capabilities."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from authgate.storage.models.base import Base, UTCDateTime, new_id, utcnow


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(254))
    email_key: Mapped[str] = mapped_column(String(254), unique=True)
    username: Mapped[str | None] = mapped_column(String(64))
    username_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    name: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(20))
    role: Mapped[str] = mapped_column(String(64), default="user")
    # Text: imported hashes run past 128 characters. SQLite keeps the column's first declared
    # type, VARCHAR(128), whose length it never enforces (changing it would mean rebuilding the
    # table, and the cascades of its foreign keys with it).
    password_hash: Mapped[str | None] = mapped_column(Text().with_variant(String(128), "sqlite"))
    password_scheme: Mapped[str | None] = mapped_column(String(32))  # security/hashing; None with no password
    email_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    phone_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    mfa_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # The WebAuthn user handle (base64url of 32 random bytes, made at the first passkey): never
    # the id, so an authenticator learns nothing that names the account elsewhere.
    passkey_handle: Mapped[str | None] = mapped_column(String(43))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        Index("ix_users_role", "role"),
        Index("ix_users_password_scheme", "password_scheme"),
        Index("ix_users_passkey_handle", "passkey_handle", unique=True),
    )


class Role(Base):
    """A named set of capabilities (`users:read`, `*` for all). `users.role` names one; a
    role still held by a user cannot be deleted (security/capabilities.py)."""

    __tablename__ = "roles"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    caps: Mapped[str] = mapped_column(Text)  # JSON list of strings
    description: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
