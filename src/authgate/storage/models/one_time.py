"""The one store for one-time secrets: emailed links, one-time codes, MFA challenges, OAuth
state, WebAuthn challenges, each row tagged by its purpose.

A secret is never stored: `digest` is the SHA-256 of a random token (links, challenges) or an
HMAC of a code bound to the row id (codes). A row without a user is a decoy written for an
unknown account, so both paths do the same work; it is never sent and matches no one. OAuth
state and passkey sign-in challenges are the exceptions: they are issued before anyone is known
(`anonymous=True`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from authgate.storage.models.base import Base, UTCDateTime, new_id, utcnow

# Purposes: what a secret may be used for, and nothing else.
VERIFY_EMAIL = "verify_email"  # an emailed link that verifies the address
RESET_PASSWORD = "reset_password"  # noqa: S105 (a purpose, not a secret)
MAGIC_LINK = "magic_link"  # an emailed link that signs in
CODE_LOGIN = "code_login"  # a code that signs in
CODE_VERIFY = "code_verify"  # a code that verifies a phone or an address
CODE_MFA = "code_mfa"  # a code that enrols or passes the one-time-code second factor
MFA_CHALLENGE = "mfa_challenge"  # the mfaToken: a sign-in waiting for its second factor
OAUTH_STATE = "oauth_state"  # a sign-in or link at a provider, waiting for its callback
CODE_EXCHANGE = "code_exchange"  # a native app's sign-in, waiting for POST /token with its verifier
PASSKEY_REGISTER = "passkey_register"  # a WebAuthn challenge to create a passkey, for one account
PASSKEY_LOGIN = "passkey_login"  # a WebAuthn challenge to sign in with a passkey (before anyone is known)
PASSKEY_MFA = "passkey_mfa"  # a WebAuthn challenge to pass a second step, for one mfaToken
PASSKEY_REAUTH = "passkey_reauth"  # a WebAuthn challenge to re-authenticate, for one session
OAUTH_REQUEST = "oauth_request"  # an app's authorization request, waiting for a sign-in or consent in one browser
OAUTH_CODE = "oauth_code"  # an authorization code, waiting for the app's token request
OAUTH_REVOKED = "oauth_revoked"  # a revoked client-credentials access token (its jti), until it expires


class OneTimeSecret(Base):
    __tablename__ = "one_time_secrets"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    purpose: Mapped[str] = mapped_column(String(24))  # one of the purposes above
    user_id: Mapped[str | None] = mapped_column(String(36), ForeignKey("users.id", ondelete="CASCADE"))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    channel: Mapped[str | None] = mapped_column(String(8))  # email | sms, for what was sent
    address: Mapped[str | None] = mapped_column(String(254))  # where it was sent (email key or phone)
    redirect_to: Mapped[str | None] = mapped_column(String(2048))
    data: Mapped[str | None] = mapped_column(Text)  # purpose-specific, e.g. a challenge's first factors
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_one_time_secrets_lookup", "purpose", "address"),
        Index("ix_one_time_secrets_user_id", "user_id"),
        Index("ix_one_time_secrets_expires_at", "expires_at"),  # the purge (migration 0011)
    )


class CodeFactor(Base):
    """The SMS/email one-time-code second factor, on for a user when this row exists."""

    __tablename__ = "otp_factors"

    user_id: Mapped[str] = mapped_column(String(36), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
