"""webhook subscriptions, and webhook deliveries in the outbox

`webhooks` holds the subscriptions. Events get `dispatched_at`, stamped when the courier has
fanned an event out to its subscribers; events written before this revision had no one to go
to and are stamped at once. Outbox rows get the event they carry (`event_id`), room for
event types in `kind`, and an index to list one webhook's deliveries.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from authgate.storage.models import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhooks",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("events", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("description", sa.String(200), nullable=True),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("previous_secret", sa.Text(), nullable=True),
        sa.Column("previous_secret_until", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_webhooks"),
    )
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("dispatched_at", UTCDateTime(), nullable=True))
    op.execute("UPDATE events SET dispatched_at = at")
    op.create_index("ix_events_dispatched_at_at", "events", ["dispatched_at", "at"])
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("event_id", sa.String(36), nullable=True))
        batch.alter_column("kind", existing_type=sa.String(32), type_=sa.String(48), existing_nullable=False)
    op.create_index("ix_outbox_recipient_created_at", "outbox", ["recipient", "created_at"])


def downgrade() -> None:
    op.execute("DELETE FROM outbox WHERE channel = 'webhook'")
    op.drop_index("ix_outbox_recipient_created_at", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("kind", existing_type=sa.String(48), type_=sa.String(32), existing_nullable=False)
        batch.drop_column("event_id")
    op.drop_index("ix_events_dispatched_at_at", table_name="events")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("dispatched_at")
    op.drop_table("webhooks")
