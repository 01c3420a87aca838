"""Two `authgate serve` nodes on one PostgreSQL database and one Redis behave as one service:
a session revoked on one is refused by the other within a second (each node caches a session
for at most a second, runtime/caches.py), a lockout counts failures through both, a
one-time link used on both at once signs in once, a refresh token used on both at once rotates
once (on SQLite too, two processes on one file), and a webhook event goes out once although
both couriers run. A pool of one connection still serves concurrent requests (they queue)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.support.databases import fresh_pg_database
from tests.support.http import STRONG_PASSWORD, bearer
from tests.support.mail import Mailbox, link_in, wait_for_mail
from tests.support.server import PATIENCE, Server, wait
from tests.support.server_webhooks import FAST, admin_token, create_admin, deliveries, subscribe
from tests.support.webhooks import WebhookReceiver

pytestmark = pytest.mark.slow
WRONG_PASSWORD = "Wrong-Pass-123"


@pytest.fixture(scope="module")
def node_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this module's nodes (each node migrates it as it
    starts); dropped at the end."""
    with fresh_pg_database("nodes") as url:
        yield url


@pytest.fixture
def shared(node_database: str, redis_url: str, redis_prefix: str) -> dict[str, str]:
    """What both nodes of a test share: the database, Redis under this test's prefix, and the
    public URL (the tokens' issuer) that a load balancer in front of them would answer at."""
    return {
        "AUTHGATE_PUBLIC_URL": "http://auth.nodes.example",
        "AUTHGATE_DATABASE_URL": node_database,
        "AUTHGATE_REDIS_URL": redis_url,
        "AUTHGATE_REDIS_KEY_PREFIX": redis_prefix,
    }


@contextmanager
def two_nodes(workdir: Path, **env: str) -> Iterator[tuple[Server, Server]]:
    """Nodes A and B, started one after the other (each migrates the database first)."""
    a = Server(workdir, "a", **env)
    try:
        b = Server(workdir, "b", **env)
    except BaseException:
        a.stop()
        raise
    try:
        yield a, b
    finally:
        a.stop()
        b.stop()


def sign_up(base: str, email: str) -> dict[str, str]:
    response = httpx.post(f"{base}/register", json={"email": email, "password": STRONG_PASSWORD})
    assert response.status_code == 201, response.text
    body: dict[str, str] = response.json()
    return body


def test_a_session_revoked_on_one_node_is_refused_by_the_other_within_a_second(
    tmp_path: Path, shared: dict[str, str]
) -> None:
    with two_nodes(tmp_path, **shared) as (a, b):
        for round_ in range(3):
            signed_in = sign_up(a.base, f"revoked{round_}@example.com")
            access = bearer(signed_in["token"])
            with httpx.Client(timeout=PATIENCE) as client:
                assert client.get(f"{b.base}/user", headers=access).status_code == 200  # B now caches it
                logout = client.post(
                    f"{a.base}/logout", headers=access, json={"refreshToken": signed_in["refreshToken"]}
                )
                answered = time.monotonic()
                assert logout.status_code == 200, logout.text
                assert client.get(f"{a.base}/user", headers=access).status_code == 401  # A drops it at once
                # Poll B: the last request it accepts must have been sent within a second of A's
                # answer (what B receives later is refused), and its refusals must follow.
                last_accepted = 0.0
                while True:
                    sent = time.monotonic() - answered
                    status = client.get(f"{b.base}/user", headers=access).status_code
                    if status != 200:
                        break
                    last_accepted = sent
                    assert sent < 2.0, "B still accepts the revoked session"
            assert status == 401
            assert last_accepted < 1.0, last_accepted


def test_a_lockout_is_reached_through_both_nodes(tmp_path: Path, shared: dict[str, str]) -> None:
    with two_nodes(tmp_path, **shared, AUTHGATE_LOCKOUT_THRESHOLD="4") as (a, b):
        email = "locked@example.com"
        sign_up(a.base, email)
        for node in (a, b, a, b):
            wrong = httpx.post(f"{node.base}/login", json={"email": email, "password": WRONG_PASSWORD})
            assert wrong.status_code == 401, wrong.text
        for node in (a, b):
            locked = httpx.post(f"{node.base}/login", json={"email": email, "password": STRONG_PASSWORD})
            assert locked.status_code == 429, locked.text
            assert locked.json()["code"] == "account_locked"


def test_a_magic_link_used_on_both_nodes_at_once_signs_in_once(tmp_path: Path, shared: dict[str, str]) -> None:
    box = Mailbox()
    box.start()
    smtp = {
        "AUTHGATE_SMTP_HOST": "127.0.0.1",
        "AUTHGATE_SMTP_PORT": str(box.port),
        "AUTHGATE_SMTP_STARTTLS": "false",
        "AUTHGATE_SMTP_FROM": "auth@nodes.example",
    }
    try:
        with two_nodes(tmp_path, **shared, **smtp) as (a, b):
            email = "linked@example.com"
            sign_up(a.base, email)
            for sent in range(1, 4):
                asked = httpx.post(f"{a.base}/login/magic", json={"email": email})
                assert asked.status_code == 202, asked.text
                token = link_in(wait_for_mail(box, email, sent), "/login/magic/").rsplit("/", 1)[1]

                async def use_on_both(token: str = token) -> list[httpx.Response]:
                    async with httpx.AsyncClient() as client:
                        return list(
                            await asyncio.gather(*(client.get(f"{n.base}/login/magic/{token}") for n in (a, b)))
                        )

                answers = asyncio.run(use_on_both())
                assert sorted(r.status_code for r in answers) == [200, 400], [r.text for r in answers]
    finally:
        box.stop()


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_refresh_token_replay_across_nodes_rotates_once_and_every_racer_gets_the_same_pair(
    tmp_path: Path, database: str, request: pytest.FixtureRequest
) -> None:
    """Sixteen uses of one refresh token, half on each node, at once: one rotation, and within
    the grace window every racer gets the pair it made, so none is logged out; the token
    before it is then reuse on either node. On SQLite the nodes' writes meet in one file,
    where the hot lane (storage/driver_lane.py) finds the write lock taken and queues."""
    url = (
        request.getfixturevalue("node_database")
        if database == "postgres"
        else f"sqlite+aiosqlite:///{tmp_path}/shared.db"
    )
    with two_nodes(tmp_path, AUTHGATE_DATABASE_URL=url, AUTHGATE_PUBLIC_URL="http://auth.nodes.example") as (a, b):
        for round_ in range(3):
            token = sign_up(a.base, f"racer{round_}-{database}@example.com")["refreshToken"]

            async def race(token: str = token) -> list[httpx.Response]:
                async with httpx.AsyncClient(timeout=60) as client:
                    uses = (client.post(f"{n.base}/refresh", json={"refreshToken": token}) for n in (a, b) * 8)
                    return list(await asyncio.gather(*uses))

            answers = asyncio.run(race())
            assert [r.status_code for r in answers] == [200] * 16, [r.text for r in answers]
            assert len({r.json()["refreshToken"] for r in answers}) == 1
            assert len({r.json()["accessToken"] for r in answers}) == 1
            successor = answers[0].json()["refreshToken"]
            # The one rotation's token goes on rotating, on either node.
            moved = httpx.post(f"{b.base}/refresh", json={"refreshToken": successor})
            assert moved.status_code == 200, moved.text
            # Two rotations back is reuse, even inside the grace window: the session ends.
            reused = httpx.post(f"{a.base}/refresh", json={"refreshToken": token})
            assert reused.status_code == 401
            assert (
                httpx.post(f"{b.base}/refresh", json={"refreshToken": moved.json()["refreshToken"]}).status_code == 401
            )


def test_a_webhook_event_is_delivered_once_with_both_couriers_running(tmp_path: Path, shared: dict[str, str]) -> None:
    receiver = WebhookReceiver()
    receiver.start()
    env = {**shared, **FAST}
    create_admin(tmp_path, env)
    try:
        with two_nodes(tmp_path, **env) as (a, b):
            token = admin_token(a.base)
            hook = subscribe(a.base, token, receiver.url)
            count = 10
            for n in range(count):
                sign_up((a, b)[n % 2].base, f"hooked{n}@example.com")
            wait(lambda: len(receiver.of_type("user.created")) >= count, what="every event delivered")
            wait(lambda: all(d["status"] == "sent" for d in deliveries(b.base, token, hook["id"])))
            time.sleep(1.0)  # a second send, were there one, would arrive now
            ids = Counter(r.headers["webhook-id"] for r in receiver.received)
            assert len(ids) == count and max(ids.values()) == 1, ids.most_common(3)
            assert receiver.hits == count
    finally:
        receiver.stop()


def test_a_pool_of_one_connection_serves_concurrent_requests(tmp_path: Path, node_database: str) -> None:
    pool = {
        "AUTHGATE_DATABASE_URL": node_database,
        "AUTHGATE_DATABASE_POOL_SIZE": "1",
        "AUTHGATE_DATABASE_MAX_OVERFLOW": "0",
        "AUTHGATE_DATABASE_POOL_TIMEOUT_SECONDS": "10",
    }
    server = Server(tmp_path, "pool", **pool)
    try:
        tokens = [sign_up(server.base, f"pooled{n}@example.com")["token"] for n in range(5)]

        async def burst() -> list[int]:
            async with httpx.AsyncClient(base_url=server.base, timeout=30) as client:
                reads = [client.get("/user", headers=bearer(t)) for t in tokens * 4]
                logins = [
                    client.post("/login", json={"email": f"pooled{n}@example.com", "password": STRONG_PASSWORD})
                    for n in range(5)
                ]
                signups = [
                    client.post("/register", json={"email": f"burst{n}@example.com", "password": STRONG_PASSWORD})
                    for n in range(5)
                ]
                return [r.status_code for r in await asyncio.gather(*reads, *logins, *signups)]

        statuses = asyncio.run(burst())
        assert statuses == [200] * 25 + [201] * 5, Counter(statuses)
    finally:
        server.stop()
    assert "Traceback" not in server.log_path.read_text()


def test_an_exhausted_pool_answers_503_rather_than_hanging(tmp_path: Path, node_database: str) -> None:
    """The one connection is held by a sign-up that waits on a row lock this test holds (the
    audit chain's head), so a second request finds no free connection within the pool timeout."""
    pool = {
        "AUTHGATE_DATABASE_URL": node_database,
        "AUTHGATE_DATABASE_POOL_SIZE": "1",
        "AUTHGATE_DATABASE_MAX_OVERFLOW": "0",
        "AUTHGATE_DATABASE_POOL_TIMEOUT_SECONDS": "0.5",
    }
    server = Server(tmp_path, "exhausted", **pool)
    try:
        token = sign_up(server.base, "waiting@example.com")["token"]

        async def exhaust() -> tuple[httpx.Response, httpx.Response, float]:
            dsn = node_database.replace("postgresql+asyncpg://", "postgresql://", 1)
            holder = await asyncpg.connect(dsn)
            try:
                async with httpx.AsyncClient(base_url=server.base, timeout=PATIENCE) as client:
                    transaction = holder.transaction()
                    await transaction.start()
                    await holder.execute("SELECT * FROM audit_chain FOR UPDATE")
                    body = {"email": "blocked@example.com", "password": STRONG_PASSWORD}
                    blocked = asyncio.create_task(client.post("/register", json=body))
                    while not await holder.fetchval(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
                    ):
                        await asyncio.sleep(0.02)  # the sign-up now holds the pool's one connection
                    started = time.monotonic()
                    starved = await client.get("/user", headers=bearer(token))
                    waited = time.monotonic() - started
                    await transaction.rollback()
                    return starved, await blocked, waited
            finally:
                await holder.close()

        starved, blocked, waited = asyncio.run(exhaust())
        assert starved.status_code == 503, starved.text
        assert starved.headers["content-type"] == "application/problem+json"
        assert starved.json()["code"] == "temporarily_unavailable" and starved.headers["retry-after"]
        assert 0.5 <= waited  # the pool timeout: a hang would hold it until the lock goes, which waits for it
        assert blocked.status_code == 201, blocked.text  # the held request finishes once the lock goes
        assert httpx.get(f"{server.base}/user", headers=bearer(token)).status_code == 200
    finally:
        server.stop()
    log = server.log_path.read_text()
    assert "Traceback" not in log and "dependency_unavailable" in log
