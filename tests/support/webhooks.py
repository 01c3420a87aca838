"""A real HTTP receiver for webhook deliveries (in a thread, on loopback), the settings of an app
whose courier may call it (private targets allowed, short retries and timeouts), and managing
webhooks over the API."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from tests.support.http import admin_token, bearer
from tests.support.server import PATIENCE, free_port, serve_in_thread

ADMIN = "hooks-admin@example.com"


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


class WebhookReceiver:
    """Records each POST it answers 2xx. `fail` answers 500 that many times first; `hang`
    makes it wait that many seconds before answering; `hold()` makes it wait, however long
    that is, until `release()` (or `stop()`); `status` is what it answers otherwise.
    Can be created on a port before it listens (a receiver that is down), then started."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/hooks"
        self.received: list[Received] = []
        self.hits = 0
        self.fail = 0
        self.hang = 0.0
        self.delay = 0.0
        self.status = 204
        self._lock = threading.Lock()
        self._released = threading.Event()
        self._released.set()
        self._server: ThreadingHTTPServer | None = None

    def hold(self) -> None:
        """From now on every delivery waits, unanswered, until `release()`."""
        self._released.clear()

    def release(self) -> None:
        self._released.set()

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                with receiver._lock:
                    receiver.hits += 1
                    failing = receiver.fail > 0
                    receiver.fail -= 1 if failing else 0
                receiver._released.wait()
                if receiver.hang:
                    time.sleep(receiver.hang)
                time.sleep(receiver.delay)
                if failing or receiver.status >= 300:
                    self.send_response(500 if failing else receiver.status)
                    self.send_header("content-length", "0")
                    self.end_headers()
                    return
                with receiver._lock:
                    receiver.received.append(Received({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                return None

        self._server = serve_in_thread(Handler, self.port)

    def stop(self) -> None:
        self.release()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def of_type(self, event_type: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.event["type"] == event_type]

    async def wait_for(self, event_type: str, count: int = 1, timeout: float = PATIENCE) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.of_type(event_type)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.of_type(event_type))} of {count} {event_type} arrived")
            await asyncio.sleep(0.02)
        return self.of_type(event_type)


FAST_WEBHOOKS = {
    "webhook_allow_private": True,  # the receiver is on loopback
    "webhook_retry_base_seconds": 0.05,
    # Long enough that a receiver slowed by a loaded machine is not timed out and sent to again
    # (a test that wants a timeout holds its receiver and sets a short one).
    "webhook_timeout_seconds": 10.0,
}

HookClientFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


async def manager_token(client: httpx.AsyncClient, email: str = ADMIN, role: str = "admin") -> str:
    return await admin_token(client, email, role)


async def subscribe(client: httpx.AsyncClient, token: str, url: str, events: list[str], **extra: Any) -> dict[str, Any]:
    response = await client.post("/webhooks", headers=bearer(token), json={"url": url, "events": events, **extra})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def deliveries(client: httpx.AsyncClient, token: str, webhook_id: str) -> list[dict[str, Any]]:
    response = await client.get(f"/webhooks/{webhook_id}/deliveries", headers=bearer(token))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def wait_deliveries(
    client: httpx.AsyncClient,
    token: str,
    webhook_id: str,
    until: Callable[[list[dict[str, Any]]], bool],
    timeout: float = PATIENCE,
) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        items = await deliveries(client, token, webhook_id)
        if until(items):
            return items
        if time.monotonic() > deadline:
            raise AssertionError(items)
        await asyncio.sleep(0.03)
