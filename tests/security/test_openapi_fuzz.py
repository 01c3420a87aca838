"""Schemathesis against authgate's own OpenAPI document, on a real `authgate serve`: for every
operation, bounded generated requests, valid and not, anonymous and with a valid bearer token
of a fresh administrator (so the authenticated operations are fuzzed, not just refused).

It runs on SQLite and on PostgreSQL. Every answer must be below 500, have a status the document lists for that operation, match
the documented schema and content type, and (for a 405) list exactly the methods served.

Left out, on purpose: `positive_data_acceptance`, which wants every schema-valid request
accepted, while a well-formed but unknown link token is a 400 by contract; and the `Allow`
check on `/oauth/link`, whose path the `GET /oauth/{provider}` route also serves.
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import allow_header_conformance, positive_data_acceptance

from authgate.app import create_app
from authgate.settings import Settings
from tests.support.app import TEST_SECRET
from tests.support.databases import fresh_pg_database
from tests.support.http import STRONG_PASSWORD
from tests.support.server import Server

EXAMPLES = 12  # per operation and mode: about 1,500 requests in all, well under a minute


@dataclass
class Fuzzed:
    """The server under test, and how to make one of its accounts an administrator."""

    server: Server
    promote: Callable[[str], None]


def _sqlite_promoter(path: Path) -> Callable[[str], None]:
    def promote(email: str) -> None:
        with sqlite3.connect(path) as db:
            db.execute("UPDATE users SET role = 'admin' WHERE email = ?", (email,))

    return promote


def _postgres_promoter(url: str) -> Callable[[str], None]:
    async def update(email: str) -> None:
        conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
        try:
            await conn.execute("UPDATE users SET role = 'admin' WHERE email = $1", email)
        finally:
            await conn.close()

    return lambda email: asyncio.run(update(email))


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzed]:
    """One server per backend (PostgreSQL refuses some values SQLite stores: a NUL byte)."""
    workdir = tmp_path_factory.mktemp("fuzz")
    with ExitStack() as stack:
        if request.param == "postgres":
            url = stack.enter_context(fresh_pg_database("fuzz"))
            env = {"AUTHGATE_DATABASE_URL": url}
            promote = _postgres_promoter(url)
        else:
            env = {}
            promote = _sqlite_promoter(workdir / "authgate.db")
        server = Server(workdir, "fuzz", AUTHGATE_LOG_LEVEL="WARNING", **env)
        try:
            yield Fuzzed(server, promote)
        finally:
            server.stop()
    log = server.log_path.read_text()
    assert "unhandled_error" not in log and "Traceback" not in log, log[-4000:]


# The document the server serves, read from the app (the test checks the server keeps to it).
SCHEMA = schemathesis.openapi.from_dict(create_app(Settings(_env_file=None, jwt_secret=TEST_SECRET)).openapi())  # type: ignore[call-arg]
OPERATIONS = [(path, method) for path, methods in SCHEMA.raw_schema["paths"].items() for method in methods]
bounded = settings(
    max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck), database=None
)


def excluded(case: schemathesis.Case) -> list[object]:
    checks: list[object] = [positive_data_acceptance]
    if case.operation.path == "/oauth/link":
        checks.append(allow_header_conformance)
    return checks


def fresh_admin_token(fuzzed: Fuzzed) -> str:
    """A new account made an administrator: whatever the last example did to its own account
    (signed out, changed its address, deleted itself), the next one starts signed in."""
    email = f"fuzz-{uuid.uuid4().hex[:12]}@example.com"
    registered = httpx.post(f"{fuzzed.server.base}/register", json={"email": email, "password": STRONG_PASSWORD})
    assert registered.status_code == 201, registered.text
    fuzzed.promote(email)
    token: str = registered.json()["token"]
    return token


def fuzz(server: Server, path: str, method: str, headers: Callable[[], dict[str, str]]) -> None:
    operation = SCHEMA[path][method]

    @given(case=operation.as_strategy())
    @bounded
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(base_url=server.base, headers=headers(), excluded_checks=excluded(case))

    run()


@pytest.mark.slow
@pytest.mark.parametrize(("path", "method"), OPERATIONS)
def test_anonymous_requests_get_documented_answers(served: Fuzzed, path: str, method: str) -> None:
    fuzz(served.server, path, method, dict)


@pytest.mark.slow
@pytest.mark.parametrize(("path", "method"), OPERATIONS)
def test_authenticated_requests_get_documented_answers(served: Fuzzed, path: str, method: str) -> None:
    fuzz(served.server, path, method, lambda: {"Authorization": f"Bearer {fresh_admin_token(served)}"})
