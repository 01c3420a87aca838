"""Webhooks on a real `authgate serve` (support/server.py): its administrator made with
`authgate user create`, the settings that let its courier call a loopback receiver quickly,
and subscribing and reading deliveries over synchronous HTTP."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from tests.support.http import bearer
from tests.support.server import PATIENCE, server_env

ADMIN, ADMIN_PASSWORD = "ops@example.com", "Admin-Pass-123"
FAST = {
    "AUTHGATE_WEBHOOK_ALLOW_PRIVATE": "true",
    "AUTHGATE_WEBHOOK_RETRY_BASE_SECONDS": "0.2",
    "AUTHGATE_WEBHOOK_TIMEOUT_SECONDS": "10",  # a receiver slowed by load is not timed out and sent to again
}


def create_admin(workdir: Path, env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "authgate", "user", "create", "--email", ADMIN, "--role", "admin", "--password-stdin"],
        cwd=workdir,
        env=server_env(workdir, 0, **env),
        input=ADMIN_PASSWORD + "\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


def admin_token(base: str) -> str:
    response = httpx.post(f"{base}/login", json={"email": ADMIN, "password": ADMIN_PASSWORD}, timeout=PATIENCE)
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token


def subscribe(base: str, token: str, url: str) -> dict[str, Any]:
    """A webhook for `user.created` at `url`, made by the admin; its JSON."""
    response = httpx.post(
        f"{base}/webhooks", headers=bearer(token), json={"url": url, "events": ["user.created"]}, timeout=PATIENCE
    )
    assert response.status_code == 201, response.text
    hook: dict[str, Any] = response.json()
    return hook


def deliveries(base: str, token: str, webhook_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = f"?limit=200&cursor={cursor}" if cursor else "?limit=200"
        page = httpx.get(
            f"{base}/webhooks/{webhook_id}/deliveries{query}", headers=bearer(token), timeout=PATIENCE
        ).json()
        items += page["items"]
        cursor = page["nextCursor"]
        if cursor is None:
            return items
