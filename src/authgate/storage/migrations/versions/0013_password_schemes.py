"""every password hash records its scheme; imported hashes may be longer

The prefix of a hash cannot tell its scheme (`$2b$` is both authgate's pre-hashed bcrypt and
plain bcrypt), so the scheme is kept beside it. Every hash made until now is authgate's
bcrypt over base64(SHA-256(password)): `bcrypt-sha256`. Hashes imported from other systems
(PBKDF2, scrypt, Firebase's scrypt with its parameters) run past 128 characters, so the hash
becomes text. The index serves the administrators' filter and `authgate user stats`.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("password_scheme", sa.String(32), nullable=True))
    op.execute("UPDATE users SET password_scheme = 'bcrypt-sha256' WHERE password_hash IS NOT NULL")
    if op.get_bind().dialect.name == "postgresql":  # SQLite does not bound a VARCHAR's length
        op.alter_column("users", "password_hash", type_=sa.Text(), existing_type=sa.String(128))
    op.create_index("ix_users_password_scheme", "users", ["password_scheme"])


def downgrade() -> None:
    op.drop_index("ix_users_password_scheme", table_name="users")
    # Not a batch (a copy of the table on SQLite): dropping the old `users` table would cascade
    # to every row that refers to it. Both databases drop a column in place.
    op.execute("ALTER TABLE users DROP COLUMN password_scheme")
