"""indexes for the retention purge

The server deletes expired one-time secrets, finished outbox rows and ended sessions by
itself (runtime/retention.py); these indexes let each batch find its rows without reading
the whole table. Events are found through `ix_events_dispatched_at_at` (0009), signing keys
are few.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_one_time_secrets_expires_at", "one_time_secrets", ["expires_at"])
    op.create_index("ix_outbox_status_created_at", "outbox", ["status", "created_at"])
    op.create_index("ix_sessions_expires_at", "sessions", ["expires_at"])
    op.create_index("ix_sessions_revoked_at", "sessions", ["revoked_at"])


def downgrade() -> None:
    op.drop_index("ix_sessions_revoked_at", table_name="sessions")
    op.drop_index("ix_sessions_expires_at", table_name="sessions")
    op.drop_index("ix_outbox_status_created_at", table_name="outbox")
    op.drop_index("ix_one_time_secrets_expires_at", table_name="one_time_secrets")
