"""What one refresh rotation costs on SQLite, by access path.

    python bench/statement_cost.py [--rounds 500]

The refresh target (bench/RESULTS.md) is limited by database access, not by SQLite: this times a
rotation as a lookup + conditional UPDATE through (1) the aiosqlite driver directly (one thread
hand-off per statement) and (2) SQLAlchemy Core text statements, and (3) as served: the one
`UPDATE ... RETURNING` of the repository on the hot lane (storage/driver_lane.py), sequentially.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import timedelta

from sqlalchemy import text

from authgate.runtime.root import Runtime
from authgate.scope import RequestContext
from authgate.security.opaque import digest
from authgate.services import accounts, onboarding
from authgate.settings import Settings
from authgate.signin.sessions import new_refresh_token
from authgate.storage.db import make_autocommit_engine
from authgate.storage.migrate import upgrade
from authgate.storage.models import utcnow
from authgate.storage.repositories import sessions as session_repo

FIND = (
    "SELECT s.id, s.user_id, s.amr, u.email, u.role FROM sessions s JOIN users u ON u.id = s.user_id "
    "WHERE s.refresh_hash = :h OR s.previous_refresh_hash = :h"
)
ROTATE = (
    "UPDATE sessions SET refresh_hash = :n, previous_refresh_hash = :h "
    "WHERE id = :sid AND refresh_hash = :h RETURNING id"
)


async def main(rounds: int) -> None:
    workdir = tempfile.mkdtemp()
    settings = Settings(
        _env_file=None, jwt_secret="s" * 48, database_url=f"sqlite+aiosqlite:///{workdir}/a.db", bcrypt_rounds=4
    )  # type: ignore[call-arg]
    rt = Runtime.build(settings)
    await upgrade(rt.engine)
    reg = accounts.Registration(email="bench@example.com", password="Bench-Mark-Pass-42")
    result = (await accounts.register(rt, reg, onboarding.Welcome(), RequestContext())).result
    assert result is not None and result.refresh_token is not None
    token = result.refresh_token

    async with make_autocommit_engine(rt.engine).connect() as conn:
        driver = (await conn.get_raw_connection()).driver_connection
        started = time.perf_counter()
        for _ in range(rounds):
            h = digest(token)
            sid = (await driver.execute_fetchall(FIND.replace(":h", "?"), (h, h)))[0][0]
            token, new_hash = new_refresh_token()
            sql = ROTATE.replace(":n", "?", 1).replace(":h", "?", 1).replace(":sid", "?").replace(":h", "?")
            assert await driver.execute_fetchall(sql, (new_hash, h, sid, h))
        raw = (time.perf_counter() - started) / rounds

        started = time.perf_counter()
        for _ in range(rounds):
            h = digest(token)
            sid = (await conn.execute(text(FIND), {"h": h})).all()[0][0]
            token, new_hash = new_refresh_token()
            assert (await conn.execute(text(ROTATE), {"n": new_hash, "h": h, "sid": sid})).all()
        core = (time.perf_counter() - started) / rounds

    started = time.perf_counter()
    for _ in range(rounds):
        h = digest(token)
        token, new_hash = new_refresh_token()
        now = utcnow()
        rotated = await session_repo.rotate(
            rt.lane, presented_hash=h, new_hash=new_hash, sealed="x", now=now, renewed=now + timedelta(days=30)
        )
        assert rotated is not None
    served = (time.perf_counter() - started) / rounds
    await rt.close()
    print("| path | µs per rotation |\n|---|---:|")
    for name, seconds in (
        ("aiosqlite directly", raw),
        ("SQLAlchemy Core text", core),
        ("the hot lane, one statement (as served)", served),
    ):
        print(f"| {name} | {seconds * 1e6:.0f} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=500)
    asyncio.run(main(parser.parse_args().rounds))
