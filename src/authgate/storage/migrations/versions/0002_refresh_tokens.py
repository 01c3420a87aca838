"""refresh tokens: each session holds its current and just-rotated refresh-token digests

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from authgate.storage.models import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("sessions", sa.Column("refresh_hash", sa.String(64), nullable=True))
    op.add_column("sessions", sa.Column("previous_refresh_hash", sa.String(64), nullable=True))
    op.add_column("sessions", sa.Column("rotated_at", UTCDateTime(), nullable=True))
    op.add_column("sessions", sa.Column("successor_sealed", sa.Text(), nullable=True))
    op.create_index("ix_sessions_refresh_hash", "sessions", ["refresh_hash"], unique=True)
    op.create_index("ix_sessions_previous_refresh_hash", "sessions", ["previous_refresh_hash"], unique=True)
    op.create_index(
        "ix_sessions_sealed",
        "sessions",
        ["rotated_at"],
        sqlite_where=sa.text("successor_sealed IS NOT NULL"),
        postgresql_where=sa.text("successor_sealed IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_sessions_sealed", table_name="sessions")
    op.drop_index("ix_sessions_previous_refresh_hash", table_name="sessions")
    op.drop_index("ix_sessions_refresh_hash", table_name="sessions")
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("successor_sealed")
        batch.drop_column("rotated_at")
        batch.drop_column("previous_refresh_hash")
        batch.drop_column("refresh_hash")
