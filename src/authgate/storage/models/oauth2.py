"""The OpenID Connect provider's rows: the apps and services that ask authgate for tokens
(clients), what each user allowed each app (consents), and what a code exchange started
(grants, each its own refresh-token family).

Secrets and tokens are never stored: a client secret and a refresh token are kept as their
SHA-256 (256 random bits each, so a slow hash adds nothing); the code that started a grant is
kept as its digest too, so that a replay of it is recognised and ends the grant.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from authgate.storage.models.base import Base, UTCDateTime, new_id, utcnow

CONFIDENTIAL = "confidential"  # a server-side app: a secret, the code flow
PUBLIC = "public"  # a SPA, mobile, desktop or CLI app: no secret, PKCE required
SERVICE = "service"  # another service: client credentials only (and token introspection)


class OAuthClient(Base):
    """An app or a service. Lists (redirect URIs, scopes) are stored space-separated: none of
    their values may hold a space."""

    __tablename__ = "oauth_clients"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)  # the client_id
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))  # confidential | public | service
    secret_hash: Mapped[str | None] = mapped_column(String(64))  # None for public clients
    first_party: Mapped[bool] = mapped_column(Boolean, default=False)
    redirect_uris: Mapped[str] = mapped_column(Text, default="")
    post_logout_redirect_uris: Mapped[str] = mapped_column(Text, default="")
    scopes: Mapped[str] = mapped_column(Text, default="")
    client_credentials: Mapped[bool] = mapped_column(Boolean, default=False)
    access_token_audience: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_oauth_clients_kind", "kind"),)


class OAuthConsent(Base):
    """The scopes a user allowed a third-party app; a request within them asks nothing."""

    __tablename__ = "oauth_consents"

    user_id: Mapped[str] = mapped_column(String(36), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    client_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("oauth_clients.id", ondelete="CASCADE"), primary_key=True
    )
    scopes: Mapped[str] = mapped_column(Text)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_oauth_consents_client_id", "client_id"),)


class OAuthGrant(Base):
    """What one code exchange started: an app's access to a user, with its own rotating
    refresh token. An online grant (no `offline_access`) ends with the authgate session
    `session_id`; an offline one outlives it. `expires_at` slides with each refresh, never past
    `ends_at`."""

    __tablename__ = "oauth_grants"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    client_id: Mapped[str] = mapped_column(String(36), ForeignKey("oauth_clients.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(36), ForeignKey("users.id", ondelete="CASCADE"))
    session_id: Mapped[str | None] = mapped_column(String(36))  # the browser's authgate session (`sid`)
    scopes: Mapped[str] = mapped_column(Text)
    offline: Mapped[bool] = mapped_column(Boolean, default=False)
    auth_time: Mapped[datetime] = mapped_column(UTCDateTime)
    amr: Mapped[str] = mapped_column(String(64))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)  # the code it was bought with
    refresh_hash: Mapped[str | None] = mapped_column(String(64))
    previous_refresh_hash: Mapped[str | None] = mapped_column(String(64))
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    successor_sealed: Mapped[str | None] = mapped_column(Text)  # the new refresh token, for the grace window
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(32))

    __table_args__ = (
        Index(
            "ix_oauth_grants_refresh_hash", "refresh_hash", unique=True, sqlite_where=text("refresh_hash IS NOT NULL")
        ),
        Index("ix_oauth_grants_user_id", "user_id"),
        Index("ix_oauth_grants_client_id", "client_id"),
        Index("ix_oauth_grants_session_id", "session_id"),
        Index("ix_oauth_grants_expires_at", "expires_at"),
    )


class OAuthRetiredToken(Base):
    """A refresh token a grant rotated out (its digest): presenting it after the grace window
    is reuse, and ends the grant."""

    __tablename__ = "oauth_retired_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    grant_id: Mapped[str] = mapped_column(String(36), ForeignKey("oauth_grants.id", ondelete="CASCADE"))

    __table_args__ = (Index("ix_oauth_retired_tokens_grant_id", "grant_id"),)
