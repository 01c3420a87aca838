"""emailed links, one-time codes, the code second factor, and the message outbox

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from authgate.storage.models import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "link_tokens",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=True),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("token_digest", sa.String(64), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("redirect_to", sa.String(2048), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_link_tokens"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_link_tokens_user_id_users", ondelete="CASCADE"),
        sa.UniqueConstraint("token_digest", name="uq_link_tokens_token_digest"),
    )
    op.create_index("ix_link_tokens_user_id", "link_tokens", ["user_id"])

    op.create_table(
        "otp_codes",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=True),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("destination", sa.String(254), nullable=False),
        sa.Column("purpose", sa.String(8), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_otp_codes"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_otp_codes_user_id_users", ondelete="CASCADE"),
    )
    op.create_index("ix_otp_codes_lookup", "otp_codes", ["channel", "destination", "purpose"])
    op.create_index("ix_otp_codes_user_id", "otp_codes", ["user_id"])

    op.create_table(
        "otp_factors",
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name="pk_otp_factors"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_otp_factors_user_id_users", ondelete="CASCADE"),
    )

    op.create_table(
        "outbox",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("recipient", sa.String(254), nullable=False),
        sa.Column("payload", sa.Text(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
    )
    op.create_index("ix_outbox_status_next_attempt_at", "outbox", ["status", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_status_next_attempt_at", table_name="outbox")
    op.drop_table("outbox")
    op.drop_table("otp_factors")
    op.drop_index("ix_otp_codes_user_id", table_name="otp_codes")
    op.drop_index("ix_otp_codes_lookup", table_name="otp_codes")
    op.drop_table("otp_codes")
    op.drop_index("ix_link_tokens_user_id", table_name="link_tokens")
    op.drop_table("link_tokens")
