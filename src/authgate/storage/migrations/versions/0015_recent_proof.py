"""a session's latest re-authentication, and whether a sensitive change has spent it

`reauthenticated_at` is when the session last proved its user again (a password, a second
factor's code or a passkey) without signing in anew; `reauth_spent_at` is when a sensitive
change used that proof up (a proof sent with a change is spent by it at once); `reauth_method`
names what was proved. The sign-in time (`created_at`) never moves.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from authgate.storage.models.base import UTCDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("sessions", sa.Column("reauthenticated_at", UTCDateTime(), nullable=True))
    op.add_column("sessions", sa.Column("reauth_spent_at", UTCDateTime(), nullable=True))
    op.add_column("sessions", sa.Column("reauth_method", sa.String(16), nullable=True))


def downgrade() -> None:
    # In place on both databases (a batch would copy `sessions`, cascading to the retired
    # refresh tokens that refer to it).
    op.execute("ALTER TABLE sessions DROP COLUMN reauth_method")
    op.execute("ALTER TABLE sessions DROP COLUMN reauth_spent_at")
    op.execute("ALTER TABLE sessions DROP COLUMN reauthenticated_at")
