"""roles with capabilities, and the audit trail made tamper-evident

Roles move to a table (the two built-in ones are inserted; any other role name already held
by a user becomes a role without capabilities, so no account is left pointing nowhere).
Every audit entry gets its place in the trail (`seq`) and a keyed hash over its content and
the previous entry's hash; `audit_chain` holds the newest place and hash. Entries written
before this revision get their place but no hash: they form the trail's uncovered beginning.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from authgate.storage.models import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

GENESIS = "0" * 64
BUILTIN = {"user": "[]", "admin": '["*"]'}


def upgrade() -> None:
    roles = op.create_table(
        "roles",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("caps", sa.Text(), nullable=False),
        sa.Column("description", sa.String(200), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_roles"),
    )
    conn = op.get_bind()
    now = datetime.now(UTC)
    held = {row[0] for row in conn.execute(sa.text("SELECT DISTINCT role FROM users"))}
    rows = [
        {"name": name, "caps": BUILTIN.get(name, "[]"), "description": None, "created_at": now, "updated_at": now}
        for name in sorted(set(BUILTIN) | held)
    ]
    op.bulk_insert(roles, rows)
    op.create_index("ix_users_role", "users", ["role"])

    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("prev_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("hash", sa.String(64), nullable=True))
    ids = [row[0] for row in conn.execute(sa.text("SELECT id FROM audit_log ORDER BY at, id"))]
    for seq, entry_id in enumerate(ids, start=1):
        conn.execute(sa.text("UPDATE audit_log SET seq = :seq WHERE id = :id"), {"seq": seq, "id": entry_id})
    with op.batch_alter_table("audit_log") as batch:
        batch.alter_column("seq", existing_type=sa.BigInteger(), nullable=False)
    op.drop_index("ix_audit_log_user_id_at", table_name="audit_log")
    op.create_index("ix_audit_log_seq", "audit_log", ["seq"], unique=True)
    op.create_index("ix_audit_log_user_id_seq", "audit_log", ["user_id", "seq"])
    op.create_index("ix_audit_log_type_seq", "audit_log", ["type", "seq"])

    chain = op.create_table(
        "audit_chain",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_chain"),
    )
    op.bulk_insert(chain, [{"id": 1, "seq": len(ids), "hash": GENESIS}])


def downgrade() -> None:
    op.drop_table("audit_chain")
    op.drop_index("ix_audit_log_type_seq", table_name="audit_log")
    op.drop_index("ix_audit_log_user_id_seq", table_name="audit_log")
    op.drop_index("ix_audit_log_seq", table_name="audit_log")
    op.create_index("ix_audit_log_user_id_at", "audit_log", ["user_id", "at"])
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("hash")
        batch.drop_column("prev_hash")
        batch.drop_column("seq")
    op.drop_index("ix_users_role", table_name="users")
    op.drop_table("roles")
