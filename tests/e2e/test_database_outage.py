"""The database or Redis goes away under a running `authgate serve`, and comes back.

PostgreSQL runs as a cluster of the test's own (initdb and pg_ctl, as the `postgres` user when
the tests run as root), so it can be stopped and started again on the same port. While it is
down, what needs the database answers a 503 problem the client can retry on, readiness says
so, liveness does not, and the process stays up; once it is back the same process serves
again without a restart, and its background parts resume having logged the outage once.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy.exc

from authgate.runtime.outages import unavailable_part
from tests.support.databases import PrivateRedis
from tests.support.http import STRONG_PASSWORD, bearer
from tests.support.server import PATIENCE, Server, free_port, wait
from tests.support.skip import skip_or_fail

ACCOUNT = {"email": "outage@example.com", "password": STRONG_PASSWORD}
PG_BIN = Path(os.environ.get("AUTHGATE_TEST_PG_BIN", "/usr/local/bin"))


class PrivatePostgres:
    """A PostgreSQL cluster in a temporary directory, on a free port, that a test may stop
    (`pg_ctl stop -m fast`: open connections are cut) and start again. PostgreSQL refuses to
    run as root, so as root every command runs as the `postgres` user, who owns the directory."""

    def __init__(self) -> None:
        initdb, pg_ctl = PG_BIN / "initdb", PG_BIN / "pg_ctl"
        if not (initdb.exists() and pg_ctl.exists()):
            skip_or_fail(f"initdb and pg_ctl are not in {PG_BIN}: the outage cases need a PostgreSQL of their own")
        self.pg_ctl = str(pg_ctl)
        self.as_user: list[str] = []
        self.dir = Path(tempfile.mkdtemp(prefix="authgate-pg-"))
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                shutil.rmtree(self.dir)
                skip_or_fail("running as root without a `postgres` user to run PostgreSQL as")
            os.chown(self.dir, owner.pw_uid, owner.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.port = free_port()
        self.url = f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"
        made = self._run(str(initdb), "-D", str(self.dir / "data"), "-A", "trust", "-U", "postgres", "--no-sync")
        if made.returncode != 0:
            shutil.rmtree(self.dir, ignore_errors=True)
            skip_or_fail(f"initdb cannot run here: {made.stderr.strip()[-300:]}")

    def _run(self, *command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*self.as_user, *command], capture_output=True, text=True, timeout=60)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        started = self._run(
            self.pg_ctl, "-D", str(self.dir / "data"), "-o", options, "-l", str(self.dir / "log"), "-w", "start"
        )
        assert started.returncode == 0, started.stderr + (self.dir / "log").read_text()

    def stop(self) -> None:
        stopped = self._run(self.pg_ctl, "-D", str(self.dir / "data"), "-m", "fast", "-w", "stop")
        assert stopped.returncode == 0, stopped.stderr

    def remove(self) -> None:
        self._run(self.pg_ctl, "-D", str(self.dir / "data"), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    cluster = PrivatePostgres()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


def assert_unavailable(response: httpx.Response) -> None:
    """A 503 problem the client can retry on, with nothing of the cause in it."""
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["retry-after"]) > 0
    body = response.json()
    assert body["code"] == "temporarily_unavailable" and body["status"] == 503
    for leak in ("Traceback", "SELECT", "Connection refused", "asyncpg", "sqlalchemy"):
        assert leak not in response.text


@pytest.mark.slow
def test_the_database_goes_away_and_comes_back(tmp_path: Path, private_postgres: PrivatePostgres) -> None:
    # EdDSA: the signing keys live in the database and are reloaded in the background too.
    server = Server(tmp_path, "outage", AUTHGATE_DATABASE_URL=private_postgres.url, AUTHGATE_JWT_ALGORITHM="EdDSA")
    try:
        base = server.base
        signed_up = httpx.post(f"{base}/register", json=ACCOUNT)
        assert signed_up.status_code == 201, signed_up.text
        access, refresh = signed_up.json()["token"], signed_up.json()["refreshToken"]

        private_postgres.stop()
        outage_started = time.monotonic()
        # Until the courier and the roles' and keys' reloads have each met the outage (their log
        # lines say so, however slow the machine), and at least long enough for the courier (one
        # poll every 5 s) and the reloads (every second) to fail several times each: each logs
        # the outage once.
        failures = ("courier_error", "roles_reload_failed", "keys_reload_failed")
        while time.monotonic() - outage_started < 11 or not all(f in server.log_path.read_text() for f in failures):
            assert time.monotonic() - outage_started < 11 + PATIENCE, f"not all of {failures} logged"
            assert_unavailable(httpx.get(f"{base}/user", headers=bearer(access)))
            assert_unavailable(httpx.post(f"{base}/login", json=ACCOUNT))
            assert_unavailable(httpx.post(f"{base}/refresh", json={"refreshToken": refresh}))
            assert_unavailable(httpx.post(f"{base}/register", json={**ACCOUNT, "email": "new@example.com"}))
            not_ready = httpx.get(f"{base}/readyz")
            assert not_ready.status_code == 503 and "database" in not_ready.json()["detail"]
            assert httpx.get(f"{base}/healthz").status_code == 200
            assert server.process.poll() is None
            time.sleep(0.5)

        private_postgres.start()
        wait(lambda: httpx.get(f"{base}/readyz").status_code == 200, what="ready again")
        login = httpx.post(f"{base}/login", json=ACCOUNT)
        assert login.status_code == 200, login.text
        assert httpx.get(f"{base}/user", headers=bearer(login.json()["token"])).status_code == 200
        assert httpx.get(f"{base}/user", headers=bearer(access)).status_code == 200  # the old session lives on
        refreshed = httpx.post(f"{base}/refresh", json={"refreshToken": refresh})
        assert refreshed.status_code == 200, refreshed.text
        # The courier runs again: a message queued now goes out.
        assert httpx.post(f"{base}/password/forgot", json={"email": ACCOUNT["email"]}).status_code == 202
        wait(lambda: "message_logged" in server.log_path.read_text(), what="the reset mail goes out")
    finally:
        server.stop()
    assert server.process.returncode == 0

    log = server.log_path.read_text()
    assert log.count("courier_error") == 1, log
    assert "courier_resumed" in log
    assert log.count("roles_reload_failed") == 1, log
    assert log.count("keys_reload_failed") == 1, log
    assert 1 <= log.count("dependency_unavailable") <= 3, log  # ~80 refused requests, a few lines
    for leak in ("Traceback", "Exception in ASGI", "unhandled_error", "SELECT", "INSERT"):
        assert leak not in log, leak


@pytest.mark.slow
def test_redis_that_does_not_answer(tmp_path: Path, private_redis: PrivateRedis) -> None:
    """Readiness names Redis; sign-ins that the lockout counts are refused (503, fail closed);
    sessions already open go on and refresh; rate limits count in the process meanwhile."""
    server = Server(tmp_path, "redis-away", AUTHGATE_REDIS_URL=private_redis.url, AUTHGATE_RATE_LIMITS="on")
    try:
        base = server.base
        signed_up = httpx.post(f"{base}/register", json=ACCOUNT)
        assert signed_up.status_code == 201, signed_up.text
        access, refresh = signed_up.json()["token"], signed_up.json()["refreshToken"]

        private_redis.kill()
        not_ready = httpx.get(f"{base}/readyz")
        assert not_ready.status_code == 503 and "Redis" in not_ready.json()["detail"]
        assert httpx.get(f"{base}/healthz").status_code == 200
        refused = httpx.post(f"{base}/login", json=ACCOUNT)
        assert_unavailable(refused)
        assert refused.headers["retry-after"] == "5"
        assert_unavailable(httpx.post(f"{base}/register", json={**ACCOUNT, "email": "new@example.com"}))
        assert httpx.get(f"{base}/user", headers=bearer(access)).status_code == 200
        refreshed = httpx.post(f"{base}/refresh", json={"refreshToken": refresh})
        assert refreshed.status_code == 200, refreshed.text

        private_redis.start()
        wait(lambda: httpx.get(f"{base}/readyz").status_code == 200, what="ready again")
        assert httpx.post(f"{base}/login", json=ACCOUNT).status_code == 200
    finally:
        server.stop()
    log = server.log_path.read_text()
    assert "Traceback" not in log and "unhandled_error" not in log


def test_only_connection_failures_count_as_an_outage() -> None:
    """A constraint violated or a missing table is a bug (500), not an outage (503)."""
    dropped = sqlalchemy.exc.DBAPIError("SELECT 1", {}, ConnectionResetError(), connection_invalidated=True)
    assert unavailable_part(dropped) == "database"
    assert unavailable_part(sqlalchemy.exc.TimeoutError("QueuePool limit reached")) == "database"
    assert unavailable_part(ConnectionRefusedError(111, "refused")) == "network"
    assert unavailable_part(sqlalchemy.exc.IntegrityError("INSERT", {}, Exception("duplicate key"))) is None
    assert unavailable_part(sqlalchemy.exc.OperationalError("SELECT", {}, Exception("no such table"))) is None
    assert unavailable_part(FileNotFoundError(2, "missing")) is None
