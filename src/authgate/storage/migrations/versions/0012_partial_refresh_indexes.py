"""refresh-token lookups stay on their indexes once the database has statistics

A session's previous refresh-token digest is empty until its first refresh, and the lookup
matches either digest (`refresh_hash = ? OR previous_refresh_hash = ?`). Once SQLite has
statistics (`ANALYZE`, or `PRAGMA optimize` as its documentation advises), it counts the empty
values as one value shared by most rows, judges the index useless for an equality, and reads
the whole table instead: 17 ms per refresh at 100k sessions, growing with the table. Indexes
of the non-empty values only (partial, `IS NOT NULL`) give the true one-row-per-value figure,
and an equality still implies the condition, so the lookup uses them. Uniqueness is unchanged:
it never applied to empty values. PostgreSQL gets the same indexes.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

COLUMNS = ("refresh_hash", "previous_refresh_hash")


def upgrade() -> None:
    for column in COLUMNS:
        name = f"ix_sessions_{column}"
        present = sa.text(f"{column} IS NOT NULL")
        op.drop_index(name, table_name="sessions")
        op.create_index(name, "sessions", [column], unique=True, sqlite_where=present, postgresql_where=present)


def downgrade() -> None:
    for column in COLUMNS:
        name = f"ix_sessions_{column}"
        op.drop_index(name, table_name="sessions")
        op.create_index(name, "sessions", [column], unique=True)
