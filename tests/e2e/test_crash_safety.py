"""A crash loses nothing that was answered: a real `authgate serve` under write load
(registrations, refresh-token rotations, the webhook events both produce) is killed with
SIGKILL, on SQLite (WAL) and on PostgreSQL, and started again on the same database.

- every registration that was answered 201 can sign in;
- every refresh chain goes on from the last token it was given: rotation is one statement,
  so a rotation cut off by the kill either happened (and the old token, just rotated out,
  returns the same pair within the grace window) or did not (and it is still current), never
  half (a token neither current nor recognised);
- every account that exists, answered or not, has exactly its `user.created` event, and every
  event its account: events are written in the change's own transaction;
- SQLite's file passes `PRAGMA integrity_check`.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest

from tests.support.http import STRONG_PASSWORD, bearer
from tests.support.server import PATIENCE, Server, wait
from tests.support.server_webhooks import FAST, admin_token, create_admin, deliveries, subscribe
from tests.support.webhooks import WebhookReceiver

CHAINS = 4
REGISTRARS = 4
LOADED = 8  # the kill waits for this many answers of each kind (registrations, refreshes) ...
IN_FLIGHT_SECONDS = 0.3  # ... then for requests to be in flight again, so that some are cut off
LOAD_DEADLINE_SECONDS = PATIENCE  # a slow machine gets there; a server that answers nothing fails the test


@pytest.fixture
def env(database_url: str) -> dict[str, str]:
    # A grace window longer than a restart: a rotation the kill cut off must still be recognised.
    return {**FAST, "AUTHGATE_DATABASE_URL": database_url, "AUTHGATE_REFRESH_REUSE_GRACE_SECONDS": "120"}


class Load:
    """What the server answered before it died."""

    def __init__(self) -> None:
        self.registered: list[str] = []
        self.chains: dict[str, str] = {}  # email -> the last refresh token the server gave
        self.refreshes = 0


async def _drive(base: str, load: Load, stop: threading.Event) -> None:
    async def registrar(n: int) -> None:
        async with httpx.AsyncClient(base_url=base, timeout=PATIENCE) as client:
            while not stop.is_set():
                email = f"crash-{n}-{uuid.uuid4().hex[:10]}@example.com"
                try:
                    answer = await client.post("/register", json={"email": email, "password": STRONG_PASSWORD})
                except httpx.TransportError:
                    return
                assert answer.status_code == 201, answer.text
                load.registered.append(email)

    async def chain(email: str) -> None:
        async with httpx.AsyncClient(base_url=base, timeout=PATIENCE) as client:
            while not stop.is_set():
                try:
                    answer = await client.post("/token/refresh", json={"refreshToken": load.chains[email]})
                except httpx.TransportError:
                    return
                assert answer.status_code == 200, answer.text
                load.chains[email] = answer.json()["refreshToken"]
                load.refreshes += 1

    await asyncio.gather(*(registrar(n) for n in range(REGISTRARS)), *(chain(e) for e in list(load.chains)))


def _kill_under_load(server: Server, load: Load) -> None:
    """Kill once the load has reached the server, not after a fixed time: on a slow, shared
    machine a fixed second and a half could pass before the first rotation was answered."""
    stop = threading.Event()

    def killer_run() -> None:
        deadline = time.monotonic() + LOAD_DEADLINE_SECONDS
        while time.monotonic() < deadline and not (
            len(load.registered) >= CHAINS + LOADED and load.refreshes >= LOADED
        ):
            time.sleep(0.05)
        time.sleep(IN_FLIGHT_SECONDS)
        server.kill()
        stop.set()

    killer = threading.Thread(target=killer_run)
    killer.start()
    try:
        asyncio.run(_drive(server.base, load, stop))
    finally:
        killer.join()


def _all_users(base: str, token: str) -> set[str]:
    emails: set[str] = set()
    cursor = None
    while True:
        query = f"?email=crash-&limit=200&cursor={cursor}" if cursor else "?email=crash-&limit=200"
        page = httpx.get(f"{base}/users{query}", headers=bearer(token), timeout=PATIENCE).json()
        emails |= {item["email"] for item in page["items"]}
        cursor = page["nextCursor"]
        if cursor is None:
            return emails


@pytest.mark.slow
def test_sigkill_under_write_load_loses_nothing_answered(
    tmp_path: Path, env: dict[str, str], database_url: str
) -> None:
    receiver = WebhookReceiver()  # down while the first server runs: the events wait in the outbox
    create_admin(tmp_path, env)
    first = Server(tmp_path, "first", **env)
    load = Load()
    try:
        hook = subscribe(first.base, admin_token(first.base), receiver.url)
        for n in range(CHAINS):
            email = f"crash-chain{n}@example.com"
            answer = httpx.post(
                f"{first.base}/register", json={"email": email, "password": STRONG_PASSWORD}, timeout=PATIENCE
            )
            assert answer.status_code == 201, answer.text
            load.chains[email] = answer.json()["refreshToken"]
            load.registered.append(email)
        _kill_under_load(first, load)
    finally:
        if first.process.poll() is None:
            first.kill()
    assert len(load.registered) > CHAINS and load.refreshes > 0, "the load never reached the server"

    if database_url.startswith("sqlite"):
        path = database_url.split("///", 1)[1]
        with sqlite3.connect(path) as db:
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)

    receiver.start()
    second = Server(tmp_path, "second", **env)
    try:
        with httpx.Client(base_url=second.base, timeout=PATIENCE) as client:
            for email in load.registered:
                login = client.post("/login", json={"email": email, "password": STRONG_PASSWORD})
                assert login.status_code == 200, (email, login.text)
            for email, token in load.chains.items():
                answer = client.post("/token/refresh", json={"refreshToken": token})
                assert answer.status_code == 200, (email, answer.text)
                again = client.post("/token/refresh", json={"refreshToken": answer.json()["refreshToken"]})
                assert again.status_code == 200, (email, again.text)  # the chain goes on
        stored = _all_users(second.base, admin_token(second.base))
        assert set(load.registered) <= stored

        def delivered() -> set[str]:
            return {r.event["data"]["email"] for r in receiver.of_type("user.created")}

        wait(lambda: delivered() >= stored, what="an event for every account")
        # Nothing more is coming once the server has sent every delivery it has.
        token = admin_token(second.base)
        wait(lambda: {d["status"] for d in deliveries(second.base, token, hook["id"])} == {"sent"}, what="all sent")
        assert delivered() == stored
    finally:
        second.stop()
        receiver.stop()
