"""Webhook delivery survives a crash and runs on several processes: real `authgate serve`
processes, a real receiver. A server killed with SIGKILL while events wait delivers them
after a restart; two servers on one PostgreSQL deliver each event exactly once."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.support.http import STRONG_PASSWORD
from tests.support.server import Server, wait
from tests.support.server_webhooks import FAST, admin_token, create_admin, deliveries, subscribe
from tests.support.webhooks import WebhookReceiver


@pytest.fixture
def env(database_url: str) -> dict[str, str]:
    """The servers' settings, on SQLite or PostgreSQL (the `database_url` of each backend)."""
    return {**FAST, "AUTHGATE_DATABASE_URL": database_url}


@pytest.mark.slow
def test_a_server_killed_with_undelivered_events_delivers_them_after_restart(
    tmp_path: Path, env: dict[str, str]
) -> None:
    receiver = WebhookReceiver()  # not listening yet: every attempt fails
    create_admin(tmp_path, env)
    first = Server(tmp_path, "first", **env)
    try:
        token = admin_token(first.base)
        hook = subscribe(first.base, token, receiver.url)
        emails = [f"user{n}@example.com" for n in range(5)]
        for email in emails:
            response = httpx.post(f"{first.base}/register", json={"email": email, "password": STRONG_PASSWORD})
            assert response.status_code == 201
        wait(
            lambda: (
                len(items := deliveries(first.base, token, hook["id"])) == 5
                and all(d["attempts"] >= 1 and d["status"] == "pending" for d in items)
            ),
            what="every delivery tried and failed",
        )
    finally:
        first.kill()

    receiver.start()
    second = Server(tmp_path, "second", **env)
    try:
        wait(lambda: len(receiver.of_type("user.created")) >= 5, what="deliveries after the restart")
        arrived = sorted(r.event["data"]["email"] for r in receiver.of_type("user.created"))
        assert arrived == emails
        token = admin_token(second.base)
        wait(lambda: all(d["status"] == "sent" for d in deliveries(second.base, token, hook["id"])))
    finally:
        second.stop()
        receiver.stop()


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["postgres"])
def test_two_servers_on_one_database_deliver_each_event_once(tmp_path: Path, env: dict[str, str]) -> None:
    receiver = WebhookReceiver()  # down at first: a backlog builds that both couriers then retry at once
    create_admin(tmp_path, env)
    servers = [Server(tmp_path, "a", **env), Server(tmp_path, "b", **env)]
    try:
        token = admin_token(servers[0].base)
        hook = subscribe(servers[0].base, token, receiver.url)
        count = 60

        async def register_all() -> None:
            async with httpx.AsyncClient(timeout=30) as client:

                async def one(n: int) -> None:
                    base = servers[n % 2].base
                    body = {"email": f"user{n}@example.com", "password": STRONG_PASSWORD}
                    assert (await client.post(f"{base}/register", json=body)).status_code == 201

                await asyncio.gather(*(one(n) for n in range(count)))

        asyncio.run(register_all())
        wait(
            lambda: (
                len(items := deliveries(servers[0].base, token, hook["id"])) == count
                and all(d["attempts"] >= 1 for d in items)
            ),
            what="every delivery tried once",
        )
        receiver.start()
        wait(lambda: len(receiver.of_type("user.created")) >= count, what="every event delivered")
        wait(lambda: all(d["status"] == "sent" for d in deliveries(servers[0].base, token, hook["id"])))
        time.sleep(1.0)  # a second send, were there one, would arrive now

        ids = Counter(r.headers["webhook-id"] for r in receiver.received)
        assert len(ids) == count and max(ids.values()) == 1, ids.most_common(3)
        assert receiver.hits == count
        # Both couriers took part (each server wakes its own on the events it writes).
        logs = [server.log_path.read_text() for server in servers]
        assert all("via=webhook" in log for log in logs), [log.count("via=webhook") for log in logs]
    finally:
        for server in servers:
            server.stop()
        receiver.stop()
