"""the OpenID Connect provider: clients (service credentials become service clients), consents,
grants and their retired refresh tokens; one-time secrets' data grows to hold a pending
authorization request

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from authgate.storage.models.base import UTCDateTime

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "oauth_clients",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=True),
        sa.Column("first_party", sa.Boolean(), nullable=False),
        sa.Column("redirect_uris", sa.Text(), nullable=False),
        sa.Column("post_logout_redirect_uris", sa.Text(), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("client_credentials", sa.Boolean(), nullable=False),
        sa.Column("access_token_audience", sa.String(200), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_used_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_oauth_clients_kind", "oauth_clients", ["kind"])
    # Every issued service credential keeps its id and secret: it is now a service client.
    op.execute(
        "INSERT INTO oauth_clients (id, name, kind, secret_hash, first_party, redirect_uris,"
        " post_logout_redirect_uris, scopes, client_credentials, access_token_audience, created_at,"
        " last_used_at, revoked_at)"
        " SELECT id, name, 'service', secret_hash, false, '', '', '', true, NULL, created_at, last_used_at, revoked_at"
        " FROM service_credentials"
    )
    op.drop_table("service_credentials")
    op.create_table(
        "oauth_consents",
        sa.Column("user_id", sa.String(36), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("client_id", sa.String(36), sa.ForeignKey("oauth_clients.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("granted_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_oauth_consents_client_id", "oauth_consents", ["client_id"])
    op.create_table(
        "oauth_grants",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("client_id", sa.String(36), sa.ForeignKey("oauth_clients.id", ondelete="CASCADE"), nullable=False),
        sa.Column("user_id", sa.String(36), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("session_id", sa.String(36), nullable=True),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("offline", sa.Boolean(), nullable=False),
        sa.Column("auth_time", UTCDateTime(), nullable=False),
        sa.Column("amr", sa.String(64), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("refresh_hash", sa.String(64), nullable=True),
        sa.Column("previous_refresh_hash", sa.String(64), nullable=True),
        sa.Column("rotated_at", UTCDateTime(), nullable=True),
        sa.Column("successor_sealed", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_used_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("ends_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_reason", sa.String(32), nullable=True),
    )
    op.create_index(
        "ix_oauth_grants_refresh_hash",
        "oauth_grants",
        ["refresh_hash"],
        unique=True,
        sqlite_where=sa.text("refresh_hash IS NOT NULL"),
        postgresql_where=sa.text("refresh_hash IS NOT NULL"),
    )
    for column in ("user_id", "client_id", "session_id", "expires_at"):
        op.create_index(f"ix_oauth_grants_{column}", "oauth_grants", [column])
    op.create_table(
        "oauth_retired_tokens",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("grant_id", sa.String(36), sa.ForeignKey("oauth_grants.id", ondelete="CASCADE"), nullable=False),
    )
    op.create_index("ix_oauth_retired_tokens_grant_id", "oauth_retired_tokens", ["grant_id"])
    with op.batch_alter_table("one_time_secrets") as batch:
        batch.alter_column("data", type_=sa.Text(), existing_type=sa.String(255), existing_nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("one_time_secrets") as batch:
        batch.alter_column("data", type_=sa.String(255), existing_type=sa.Text(), existing_nullable=True)
    op.drop_table("oauth_retired_tokens")
    op.drop_table("oauth_grants")
    op.drop_table("oauth_consents")
    op.create_table(
        "service_credentials",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_used_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_service_credentials"),
    )
    op.execute(
        "INSERT INTO service_credentials (id, name, secret_hash, created_at, last_used_at, revoked_at)"
        " SELECT id, name, secret_hash, created_at, last_used_at, revoked_at FROM oauth_clients WHERE kind = 'service'"
    )
    op.drop_table("oauth_clients")
