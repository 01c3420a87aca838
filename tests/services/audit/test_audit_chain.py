"""The audit trail is a keyed hash chain: concurrent appends keep it whole, and any edit,
removal or reordering made in the database behind authgate's back shows."""

from __future__ import annotations

import asyncio
import hashlib
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from authgate.storage.audit_chain import GENESIS
from authgate.storage.migrate import upgrade
from tests.support.app import ClientFactory, sql
from tests.support.audit import verdict
from tests.support.http import STRONG_PASSWORD, register
from tests.support.server import run_authgate


async def trail(client: httpx.AsyncClient, entries: int = 6) -> None:
    """A few entries: registrations (user.created, user.login) and a failed login."""
    for n in range(entries // 2):
        await register(client, f"user{n}@example.com")
    assert (await verdict(client)).ok


async def test_parallel_writers_chain_one_after_another(client: httpx.AsyncClient) -> None:
    await asyncio.gather(*(register(client, f"user{n}@example.com") for n in range(20)))
    await asyncio.gather(
        *(client.post("/login", json={"email": f"user{n}@example.com", "password": "Wrong-1x"}) for n in range(20))
    )
    result = await verdict(client)
    assert result.ok, result.problem
    assert result.entries == 60 and result.uncovered == 0 and result.head_seq == 60
    seqs = [row[0] for row in await sql(client, "SELECT seq FROM audit_log ORDER BY seq")]
    assert seqs == list(range(1, 61))
    first = await sql(client, "SELECT prev_hash FROM audit_log WHERE seq = 1")
    assert first[0][0] == GENESIS


async def test_a_failed_use_case_writes_no_entry_and_leaves_the_chain_whole(client: httpx.AsyncClient) -> None:
    await trail(client)
    count = (await sql(client, "SELECT COUNT(*) FROM audit_log"))[0][0]
    taken = await client.post("/register", json={"email": "user0@example.com", "password": STRONG_PASSWORD})
    assert taken.status_code == 409
    assert (await sql(client, "SELECT COUNT(*) FROM audit_log"))[0][0] == count
    await register(client, "late@example.com")
    assert (await verdict(client)).ok


@pytest.mark.parametrize(
    ("edit", "names"),
    [
        ('UPDATE audit_log SET data = \'{"methods":["otp"]}\' WHERE seq = 2', "entry 2"),
        ("UPDATE audit_log SET type = 'user.updated' WHERE seq = 3", "entry 3"),
        ("UPDATE audit_log SET user_id = 'someone-else' WHERE seq = 1", "entry 1"),
        ("UPDATE audit_log SET ip_address = '10.0.0.1' WHERE seq = 4", "entry 4"),
        ("UPDATE audit_log SET actor_id = NULL WHERE seq = 5", "entry 5"),
        ("DELETE FROM audit_log WHERE seq = 3", "entry 3 is missing"),
        ("DELETE FROM audit_log WHERE seq = 6", "head"),
        ("UPDATE audit_log SET hash = NULL, prev_hash = NULL WHERE seq = 4", "entry 4"),
    ],
)
async def test_an_entry_edited_in_the_database_breaks_the_chain(
    client: httpx.AsyncClient, edit: str, names: str
) -> None:
    await trail(client)
    await sql(client, edit)
    result = await verdict(client)
    assert not result.ok
    assert result.problem is not None and names in result.problem, result.problem


async def test_swapping_two_entries_breaks_the_chain(client: httpx.AsyncClient) -> None:
    await trail(client)
    await sql(client, "UPDATE audit_log SET seq = -1 WHERE seq = 2")
    await sql(client, "UPDATE audit_log SET seq = 2 WHERE seq = 3")
    await sql(client, "UPDATE audit_log SET seq = 3 WHERE seq = -1")
    result = await verdict(client)
    assert not result.ok and "entry 2" in (result.problem or "")


async def test_hashes_recomputed_without_the_key_do_not_pass(client: httpx.AsyncClient) -> None:
    """Someone who can write to the database but lacks the server's secret re-hashes an edited
    entry with plain SHA-256 (or any key of their own): still caught."""
    await trail(client)
    row = (await sql(client, "SELECT prev_hash, type FROM audit_log WHERE seq = 6"))[0]
    forged = hashlib.sha256(f"{row[0]}|{row[1]}|edited".encode()).hexdigest()
    await sql(client, "UPDATE audit_log SET data = '{}', hash = :h WHERE seq = 6", h=forged)
    await sql(client, "UPDATE audit_chain SET hash = :h", h=forged)
    result = await verdict(client)
    assert not result.ok and "entry 6" in (result.problem or "")


async def test_the_chain_is_keyed_by_the_server_secret(make_client: ClientFactory) -> None:
    async with make_client() as client:
        await trail(client)
    async with make_client(jwt_secret="another-secret-that-is-long-enough-987654") as other:
        result = await verdict(other)
        assert not result.ok and "entry 1" in (result.problem or "")
    async with make_client(encryption_key="an-encryption-key-that-is-long-enough-12") as keyed:
        assert not (await verdict(keyed)).ok  # a set encryption key is the chain's key then


def authgate_cli(database_url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_authgate(cwd, "audit", "verify", AUTHGATE_DATABASE_URL=database_url)


async def test_authgate_audit_verify_on_the_command_line(
    client: httpx.AsyncClient, database_url: str, tmp_path: Path
) -> None:
    await trail(client)
    intact = await asyncio.to_thread(authgate_cli, database_url, tmp_path)
    assert intact.returncode == 0, intact.stderr
    head = (await sql(client, "SELECT seq, hash FROM audit_chain"))[0]
    assert f"intact: 6 entries (0 written before the chain began), head {head[0]} {head[1]}" in intact.stdout

    await sql(client, 'UPDATE audit_log SET data = \'{"reason":"nothing to see"}\' WHERE seq = 2')
    broken = await asyncio.to_thread(authgate_cli, database_url, tmp_path)
    assert broken.returncode == 1
    assert "audit trail broken: entry 2" in broken.stderr and "changed" in broken.stderr


async def test_entries_from_before_the_chain_are_reported_and_new_ones_chain_after_them(
    migration_engine: AsyncEngine, make_client: ClientFactory
) -> None:
    """An existing database upgraded: its older entries keep their order but are not covered;
    the chain starts after them."""
    await upgrade(migration_engine, "0007")
    async with migration_engine.begin() as conn:
        for n, moment in enumerate(["2026-01-01 10:00:00", "2026-01-01 09:00:00"]):
            await conn.execute(
                text("INSERT INTO audit_log (id, at, type, user_id) VALUES (:id, :at, 'user.login', NULL)"),
                {"id": f"old-{n}", "at": datetime.fromisoformat(moment).replace(tzinfo=UTC)},
            )
    await upgrade(migration_engine)
    url = migration_engine.url.render_as_string(hide_password=False)
    async with make_client(database_url=url) as client:
        assert [tuple(r) for r in await sql(client, "SELECT id, seq FROM audit_log ORDER BY seq")] == [
            ("old-1", 1),
            ("old-0", 2),
        ]
        await register(client)
        result = await verdict(client)
        assert result.ok and result.entries == 4 and result.uncovered == 2 and result.head_seq == 4
        await sql(client, "UPDATE audit_log SET hash = NULL WHERE seq = 3")  # hiding among the old ones
        assert not (await verdict(client)).ok
