"""Migration 0005 re-keys accounts stored under the old rule (casefold alone), so a look-alike
registered before the upgrade cannot keep squatting; two accounts that turn out to be one
address stop the upgrade, naming both, and leave the database as it was."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from authgate.storage.migrate import upgrade
from tests.support.app import ClientFactory
from tests.support.http import STRONG_PASSWORD

FULL_WIDTH_BOB = "\uff42\uff4f\uff42@example.com"
INSERT_USER = text(
    "INSERT INTO users (id, email, email_key, username, username_key, name, phone, role, password_hash,"
    " email_verified, phone_verified, mfa_enabled, disabled, created_at, updated_at)"
    " VALUES (:id, :email, :email_key, :username, :username_key, NULL, NULL, 'user', NULL,"
    " :no, :no, :no, :no, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
)


async def insert_users(engine: AsyncEngine, *users: dict[str, Any]) -> None:
    async with engine.begin() as conn:
        for user in users:
            await conn.execute(INSERT_USER, {"username": None, "username_key": None, "no": False, **user})


async def stored(engine: AsyncEngine) -> tuple[str, dict[str, tuple[str, str, str | None]]]:
    async with engine.connect() as conn:
        version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar_one()
        rows = (await conn.execute(text("SELECT id, email, email_key, username_key FROM users"))).all()
    return version, {r.id: (r.email, r.email_key, r.username_key) for r in rows}


def old_style(user_id: str, email: str, username: str | None = None) -> dict[str, Any]:
    """A row as revision 0004's code wrote it: the key is the address case-folded, nothing more."""
    return {
        "id": user_id,
        "email": email,
        "email_key": email.casefold(),
        "username": username,
        "username_key": username.casefold() if username else None,
    }


async def test_upgrade_rekeys_lookalike_accounts_so_they_stop_squatting(
    migration_engine: AsyncEngine, make_client: ClientFactory
) -> None:
    await upgrade(migration_engine, "0004")
    sam, bob, sue = (str(uuid.uuid4()) for _ in range(3))
    await insert_users(
        migration_engine,
        old_style(sam, "Sam@Example.com", username="Sam.Smith"),
        old_style(bob, FULL_WIDTH_BOB),
        old_style(sue, "\u017fue@example.com"),  # LONG S: its old key was already "sue@..."
    )
    assert (await stored(migration_engine))[1][bob][1] == FULL_WIDTH_BOB  # the squatting key

    await upgrade(migration_engine, "0005")

    version, users = await stored(migration_engine)
    assert version == "0005"
    assert users == {
        sam: ("Sam@Example.com", "sam@example.com", "sam.smith"),
        bob: ("bob@example.com", "bob@example.com", None),
        sue: ("sue@example.com", "sue@example.com", None),
    }
    # The app on the upgraded database (and every later revision): the plain address is taken,
    # by the account that had it.
    await upgrade(migration_engine)
    async with make_client(database_url=str(migration_engine.url.render_as_string(hide_password=False))) as client:
        for email in ("bob@example.com", "sue@example.com"):
            taken = await client.post("/register", json={"email": email, "password": STRONG_PASSWORD})
            assert taken.status_code == 409 and taken.json()["code"] == "email_taken", (email, taken.text)


async def test_upgrade_stops_naming_both_accounts_when_two_collide_once_normalised(
    migration_engine: AsyncEngine,
) -> None:
    await upgrade(migration_engine, "0004")
    plain, lookalike = str(uuid.uuid4()), str(uuid.uuid4())
    await insert_users(migration_engine, old_style(plain, "bob@example.com"), old_style(lookalike, FULL_WIDTH_BOB))
    before = await stored(migration_engine)

    with pytest.raises(RuntimeError) as failed:
        await upgrade(migration_engine, "0005")

    message = str(failed.value)
    assert plain in message and lookalike in message
    # Nothing was half done: still at 0004, every row as it was, for an operator to settle.
    assert await stored(migration_engine) == before
    assert before[0] == "0004"


async def test_upgrade_stops_naming_an_account_whose_address_no_longer_fits(migration_engine: AsyncEngine) -> None:
    """U+FDFA spells out to 18 characters under NFKC: an address the old code accepted would
    not fit its column once normalised, so the upgrade names it instead of failing blindly."""
    await upgrade(migration_engine, "0004")
    long_one = str(uuid.uuid4())
    await insert_users(migration_engine, old_style(long_one, "\ufdfa" * 20 + "@example.com"))
    before = await stored(migration_engine)
    with pytest.raises(RuntimeError) as failed:
        await upgrade(migration_engine, "0005")
    assert long_one in str(failed.value)
    assert await stored(migration_engine) == before
