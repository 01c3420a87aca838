"""A real server process answers the basic flow (the documented-flow tests build on this)."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.support.server import running_server


def test_real_server_register_and_profile(tmp_path: Path, server_database: dict[str, str]) -> None:
    with running_server(tmp_path, **server_database) as base:
        reg = httpx.post(f"{base}/api/v1/auth/register", json={"email": "e2e@example.com", "password": "TestPass123"})
        assert reg.status_code == 201, reg.text
        token = reg.json()["token"]
        prof = httpx.get(f"{base}/api/v1/auth/profile", headers={"Authorization": f"Bearer {token}"})
        assert prof.status_code == 200
        assert prof.json()["email"] == "e2e@example.com"
