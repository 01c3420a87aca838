"""multi-factor authentication: TOTP credentials, recovery codes, pending MFA sign-ins

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from authgate.storage.models import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mfa_totp",
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("secret", sa.String(255), nullable=True),
        sa.Column("pending_secret", sa.String(255), nullable=True),
        sa.Column("last_step", sa.BigInteger(), nullable=True),
        sa.Column("enabled_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name="pk_mfa_totp"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_mfa_totp_user_id_users", ondelete="CASCADE"),
    )
    op.create_table(
        "mfa_recovery_codes",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_mfa_recovery_codes"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_mfa_recovery_codes_user_id_users", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("user_id", "code_hash", name="uq_mfa_recovery_codes_user_id_code_hash"),
    )
    op.create_table(
        "mfa_challenges",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("amr", sa.String(64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_mfa_challenges"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_mfa_challenges_user_id_users", ondelete="CASCADE"),
        sa.UniqueConstraint("token_hash", name="uq_mfa_challenges_token_hash"),
    )
    op.create_index("ix_mfa_challenges_user_id", "mfa_challenges", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_mfa_challenges_user_id", table_name="mfa_challenges")
    op.drop_table("mfa_challenges")
    op.drop_table("mfa_recovery_codes")
    op.drop_table("mfa_totp")
