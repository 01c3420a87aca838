"""The driver lane and the hot lane (storage/driver_lane.py) read and write exactly what the
ORM does: the same values, types and time zones, for the refresh lookup and rotation and the
principal lookup."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import bindparam, inspect, select, update
from sqlalchemy.exc import DBAPIError

from authgate.runtime.outages import database_error_type
from authgate.security.opaque import digest
from authgate.storage import driver_lane
from authgate.storage.models import Session, User
from authgate.storage.repositories import sessions as session_repo
from tests.support.app import runtime, sql
from tests.support.http import login, register


async def orm_row(client: httpx.AsyncClient, session_id: str) -> tuple[Session, User]:
    async with runtime(client).db() as db:
        row = (await db.execute(select(Session, User).join(User).where(Session.id == session_id))).one()
        return row[0], row[1]


async def test_lookup_returns_what_the_orm_reads(client: httpx.AsyncClient) -> None:
    await register(client, phone="+14155550100", name="Ada")
    token = (await login(client)).json()["refreshToken"]
    found = await session_repo.find_by_refresh_hash(runtime(client).lane, token_hash=digest(token))
    assert found is not None
    lane_session, lane_user = found
    orm_session, orm_user = await orm_row(client, lane_session.id)
    for column in Session.__table__.columns:
        assert getattr(lane_session, column.key) == getattr(orm_session, column.key), column.key
    for column in User.__table__.columns:
        assert getattr(lane_user, column.key) == getattr(orm_user, column.key), column.key
    assert lane_session.expires_at.tzinfo is not None and lane_user.created_at.tzinfo is not None
    assert isinstance(lane_user.email_verified, bool)


async def test_principal_lookup_returns_what_the_orm_reads(client: httpx.AsyncClient) -> None:
    """A session not cached is read through the lane: the same values, and detached objects
    with their identity (as the ORM leaves them once its session closes); a revoked or
    expired session is not found."""
    await register(client, name="Ada")
    await login(client)
    await login(client)
    live, revoked, expired = [row[0] for row in await sql(client, "SELECT id FROM sessions ORDER BY created_at")][:3]
    now = datetime.now(UTC)
    await sql(client, update(Session).where(Session.id == revoked).values(revoked_at=now))
    await sql(client, update(Session).where(Session.id == expired).values(expires_at=now - timedelta(seconds=1)))
    lane = runtime(client).lane
    found = await session_repo.get_active_with_user(lane, session_id=live, now=now)
    assert await session_repo.get_active_with_user(lane, session_id=revoked, now=now) is None
    assert await session_repo.get_active_with_user(lane, session_id=expired, now=now) is None
    assert found is not None
    lane_session, lane_user = found
    orm_session, orm_user = await orm_row(client, live)
    for column in Session.__table__.columns:
        assert getattr(lane_session, column.key) == getattr(orm_session, column.key), column.key
    for column in User.__table__.columns:
        assert getattr(lane_user, column.key) == getattr(orm_user, column.key), column.key
    assert inspect(lane_session).detached and inspect(lane_session).identity == (live,)
    assert inspect(lane_user).detached and inspect(lane_user).identity == (orm_user.id,)


async def test_rotation_writes_what_the_orm_reads_back(client: httpx.AsyncClient) -> None:
    await register(client)
    old = (await login(client)).json()["refreshToken"]
    before = datetime.now(UTC)
    refreshed = await client.post("/refresh", json={"refreshToken": old})
    assert refreshed.status_code == 200, refreshed.text
    new = refreshed.json()["refreshToken"]
    found = await session_repo.find_by_refresh_hash(runtime(client).lane, token_hash=digest(new))
    assert found is not None
    stored, _ = await orm_row(client, found[0].id)
    assert stored.refresh_hash == digest(new) and stored.previous_refresh_hash == digest(old)
    assert stored.rotated_at is not None and before - timedelta(seconds=1) <= stored.rotated_at <= datetime.now(UTC)
    ttl = runtime(client).settings.refresh_token_ttl_seconds
    assert abs((stored.expires_at - stored.rotated_at) - timedelta(seconds=ttl)) < timedelta(seconds=1)
    assert stored.last_used_at == stored.rotated_at and stored.successor_sealed
    # Byte for byte as the ORM stores times: compare the raw column text with created_at,
    # which the ORM wrote at login (on PostgreSQL the driver returns typed values anyway).
    raw = (
        await sql(
            client, "SELECT created_at, rotated_at, expires_at, last_used_at FROM sessions WHERE id = :id", id=stored.id
        )
    )[0]
    if isinstance(raw[0], str):
        shape = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}")
        assert all(shape.fullmatch(value) for value in raw), raw
    listed = await client.get("/sessions", headers={"Authorization": f"Bearer {refreshed.json()['accessToken']}"})
    assert listed.status_code == 200
    assert any(s["id"] == stored.id for s in listed.json())


async def test_a_driver_error_on_the_hot_lane_comes_as_sqlalchemys(
    client: httpx.AsyncClient,
) -> None:
    """A constraint the hot lane's statement breaks is SQLAlchemy's error, as through the ORM:
    the last net then logs it by its classes only (a unique violation's message names the
    value), and its text never lists the statement's parameters."""
    await register(client, "first@example.com")
    await register(client, "second@example.com")
    second = (await sql(client, "SELECT id FROM users WHERE email_key = 'second@example.com'"))[0][0]
    steal = driver_lane.Statement(
        update(User).where(User.id == bindparam("id")).values(email_key=bindparam("key")).returning(User.id),
        returns=(User.__table__.c.id,),
    )
    with pytest.raises(DBAPIError) as raised:
        await runtime(client).lane.rows(
            steal, {"id": second, "key": "first@example.com", "updated_at": datetime.now(UTC)}
        )
    assert database_error_type(raised.value) is not None
    assert raised.value.orig is not None and "[parameters:" not in str(raised.value)


RENAME = driver_lane.Statement(
    update(User).where(User.id == bindparam("id")).values(name=bindparam("name")).returning(User.name),
    returns=(User.__table__.c.name,),
)


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_a_held_write_lock_queues_the_hot_lane_for_the_write_turn(client: httpx.AsyncClient) -> None:
    """Another connection (a worker's transaction) holds SQLite's write lock: the hot lane's
    statement cannot run on the loop, takes the write turn and waits in aiosqlite's thread.
    A statement that comes meanwhile queues for the turn and then runs on the loop, never in
    the thread: each one sent to the thread while another held the lock used to send the
    next there too, until under load most refreshes paid for the hand-off."""
    await register(client, "first@example.com")
    user_id = (await sql(client, "SELECT id FROM users"))[0][0]
    lane = runtime(client).lane
    assert lane.sqlite_path is not None
    sent_to_thread: list[str] = []
    in_thread = lane._in_thread

    async def spied(statement: str, values: list[Any]) -> Any:
        sent_to_thread.append(statement)
        return await in_thread(statement, values)

    lane._in_thread = spied  # type: ignore[method-assign]
    other_worker = sqlite3.connect(lane.sqlite_path, isolation_level=None)
    other_worker.execute("BEGIN IMMEDIATE")
    try:
        first = asyncio.create_task(
            lane.rows(RENAME, {"id": user_id, "name": "first", "updated_at": datetime.now(UTC)})
        )
        await asyncio.sleep(0.2)
        second = asyncio.create_task(
            lane.rows(RENAME, {"id": user_id, "name": "second", "updated_at": datetime.now(UTC)})
        )
        await asyncio.sleep(0.2)
        assert not first.done() and not second.done()
        assert len(sent_to_thread) == 1 and lane.write_turn.locked()  # type: ignore[attr-defined]
    finally:
        other_worker.execute("COMMIT")
        other_worker.close()
    assert await first == [["first"]] and await second == [["second"]]
    assert len(sent_to_thread) == 1, "the statement that queued for the turn ran on the loop"
    assert (await sql(client, "SELECT name FROM users"))[0][0] == "second"
