"""identity keys: NFKC before case-folding, stored addresses in NFKC form

Look-alike spellings (a long s for an s, full-width letters) used to get keys of their own, so they could
squat an address. Keys are now NFKC, then case-folded, then NFKC again; stored addresses are
NFKC. Two existing accounts whose keys now agree cannot both keep their address, and an
address that no longer fits its column cannot be kept: the upgrade stops and names the
accounts, for an operator to settle.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None
KEY_MAX = 254  # the width of users.email and users.email_key


def _nfkc(value: str) -> str:
    return unicodedata.normalize("NFKC", value)


def _key(value: str) -> str:
    # A frozen copy of the rule at this revision (security/identifiers.py may move on).
    return _nfkc(_nfkc(value).casefold())


def upgrade() -> None:
    users = sa.table(
        "users",
        sa.column("id", sa.String),
        sa.column("email", sa.String),
        sa.column("email_key", sa.String),
        sa.column("username", sa.String),
        sa.column("username_key", sa.String),
    )
    bind = op.get_bind()
    rows = bind.execute(sa.select(users.c.id, users.c.email, users.c.username)).all()
    seen: dict[str, str] = {}
    changes = []
    for user_id, email, username in rows:
        new_email = _nfkc(email)
        key = _key(new_email)
        if max(len(new_email), len(key)) > KEY_MAX:
            raise RuntimeError(f"account {user_id}: its address is longer than {KEY_MAX} characters once normalised")
        if key in seen:
            raise RuntimeError(f"accounts {seen[key]} and {user_id} have the same address once normalised ({key!r})")
        seen[key] = user_id
        changes.append({"uid": user_id, "e": new_email, "k": key, "uk": _key(username) if username else None})
    # Two passes, so that no intermediate state breaks the unique index on email_key.
    for change in changes:
        bind.execute(
            users.update().where(users.c.id == sa.bindparam("uid")).values(email_key="~" + change["uid"]),
            {"uid": change["uid"]},
        )
    for change in changes:
        bind.execute(
            users.update()
            .where(users.c.id == sa.bindparam("uid"))
            .values(email=sa.bindparam("e"), email_key=sa.bindparam("k"), username_key=sa.bindparam("uk")),
            change,
        )


def downgrade() -> None:
    """Keys stay as they are: the earlier rule would only make them collide less."""
