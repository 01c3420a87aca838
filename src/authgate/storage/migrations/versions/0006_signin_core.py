"""the sign-in core: one store for one-time secrets, retired refresh tokens, an absolute
session end, and the audit trail and event outbox that use cases append to

Links, one-time codes and MFA challenges move to `one_time_secrets`. Those outstanding at
the upgrade are not carried over: each lives minutes to a day, and asking again is the remedy.
Sessions get their absolute end (90 days after they began, the documented default), and the
refresh token each rotated out last is recorded as retired.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from alembic import op

from authgate.storage.models import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


# Every refresh token a session rotates out is recorded as retired by the database itself, in
# the statement that rotates it: atomic, and no extra round trip on the hot path.
RETIRE_TRIGGER = {
    "sqlite": [
        "CREATE TRIGGER sessions_retire_refresh AFTER UPDATE OF refresh_hash ON sessions "
        "WHEN OLD.refresh_hash IS NOT NULL AND OLD.refresh_hash IS NOT NEW.refresh_hash "
        "BEGIN INSERT OR IGNORE INTO retired_refresh_tokens (token_hash, session_id) "
        "VALUES (OLD.refresh_hash, OLD.id); END"
    ],
    "postgresql": [
        "CREATE FUNCTION retire_refresh_token() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF OLD.refresh_hash IS NOT NULL AND OLD.refresh_hash IS DISTINCT FROM NEW.refresh_hash THEN "
        "INSERT INTO retired_refresh_tokens (token_hash, session_id) VALUES (OLD.refresh_hash, OLD.id) "
        "ON CONFLICT DO NOTHING; END IF; RETURN NEW; END $$",
        "CREATE TRIGGER sessions_retire_refresh AFTER UPDATE OF refresh_hash ON sessions "
        "FOR EACH ROW EXECUTE FUNCTION retire_refresh_token()",
    ],
}
DROP_RETIRE_TRIGGER = {
    "sqlite": ["DROP TRIGGER sessions_retire_refresh"],
    "postgresql": ["DROP TRIGGER sessions_retire_refresh ON sessions", "DROP FUNCTION retire_refresh_token()"],
}


def upgrade() -> None:
    op.create_table(
        "one_time_secrets",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("purpose", sa.String(24), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=True),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(8), nullable=True),
        sa.Column("address", sa.String(254), nullable=True),
        sa.Column("redirect_to", sa.String(2048), nullable=True),
        sa.Column("data", sa.String(255), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_one_time_secrets"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_one_time_secrets_user_id_users", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("digest", name="uq_one_time_secrets_digest"),
    )
    op.create_index("ix_one_time_secrets_lookup", "one_time_secrets", ["purpose", "address"])
    op.create_index("ix_one_time_secrets_user_id", "one_time_secrets", ["user_id"])
    op.drop_index("ix_link_tokens_user_id", table_name="link_tokens")
    op.drop_table("link_tokens")
    op.drop_index("ix_otp_codes_user_id", table_name="otp_codes")
    op.drop_index("ix_otp_codes_lookup", table_name="otp_codes")
    op.drop_table("otp_codes")
    op.drop_index("ix_mfa_challenges_user_id", table_name="mfa_challenges")
    op.drop_table("mfa_challenges")

    op.create_table(
        "retired_refresh_tokens",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("session_id", sa.String(36), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name="pk_retired_refresh_tokens"),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.id"], name="fk_retired_refresh_tokens_session_id_sessions", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_retired_refresh_tokens_session_id", "retired_refresh_tokens", ["session_id"])
    for statement in RETIRE_TRIGGER[op.get_bind().dialect.name]:
        op.execute(statement)
    op.execute(
        "INSERT INTO retired_refresh_tokens (token_hash, session_id) "
        "SELECT previous_refresh_hash, id FROM sessions WHERE previous_refresh_hash IS NOT NULL"
    )
    op.add_column("sessions", sa.Column("ends_at", UTCDateTime(), nullable=True))
    sessions = sa.table("sessions", sa.column("id", sa.String), sa.column("created_at", UTCDateTime()))
    bind = op.get_bind()
    rows = bind.execute(sa.select(sessions.c.id, sessions.c.created_at)).all()
    for session_id, created_at in rows:
        bind.execute(
            sa.text("UPDATE sessions SET ends_at = :ends WHERE id = :sid").bindparams(
                sa.bindparam("ends", type_=UTCDateTime())
            ),
            {"ends": created_at + timedelta(days=90), "sid": session_id},
        )

    op.create_table(
        "audit_log",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("type", sa.String(48), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=True),
        sa.Column("actor_id", sa.String(36), nullable=True),
        sa.Column("ip_address", sa.String(64), nullable=True),
        sa.Column("user_agent", sa.String(512), nullable=True),
        sa.Column("data", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_user_id_at", "audit_log", ["user_id", "at"])
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_table(
        "events",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("type", sa.String(48), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
    )
    op.create_index("ix_events_at", "events", ["at"])


def downgrade() -> None:
    op.drop_index("ix_events_at", table_name="events")
    op.drop_table("events")
    op.drop_index("ix_audit_log_at", table_name="audit_log")
    op.drop_index("ix_audit_log_user_id_at", table_name="audit_log")
    op.drop_table("audit_log")
    op.execute("ALTER TABLE sessions DROP COLUMN ends_at")
    for statement in DROP_RETIRE_TRIGGER[op.get_bind().dialect.name]:
        op.execute(statement)
    op.drop_index("ix_retired_refresh_tokens_session_id", table_name="retired_refresh_tokens")
    op.drop_table("retired_refresh_tokens")
    op.drop_index("ix_one_time_secrets_user_id", table_name="one_time_secrets")
    op.drop_index("ix_one_time_secrets_lookup", table_name="one_time_secrets")
    op.drop_table("one_time_secrets")
    # The earlier tables come back empty (see the upgrade's note on outstanding secrets).
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
