"""The `authgate` command: user create (bootstrapping an admin), migrate, openapi."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

import httpx

from tests.support.server import run_authgate, running_server


def authgate(tmp_path: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return run_authgate(tmp_path, *args, stdin=stdin)


def test_user_create_makes_an_admin_who_can_log_in(tmp_path: Path) -> None:
    created = authgate(
        tmp_path,
        "user",
        "create",
        "--email",
        "root@example.com",
        "--password",
        "Admin-Pass-123",
        "--username",
        "root",
        "--name",
        "Root",
        "--role",
        "admin",
        "--verified",
    )
    assert created.returncode == 0, created.stderr
    user_id = created.stdout.strip()
    again = authgate(tmp_path, "user", "create", "--email", "ROOT@example.com", "--password", "Admin-Pass-123")
    assert again.returncode == 1 and "email_taken" in again.stderr
    weak = authgate(tmp_path, "user", "create", "--email", "w@example.com", "--password", "weak")
    assert weak.returncode == 1 and "password" in weak.stderr
    with running_server(tmp_path) as base:
        login = httpx.post(f"{base}/login", json={"username": "root", "password": "Admin-Pass-123"})
        assert login.status_code == 200
        user = login.json()["user"]
        assert user["id"] == user_id and user["role"] == "admin" and user["caps"] == ["*"]
        assert user["emailVerified"] is True and user["name"] == "Root"


def test_migrate_is_idempotent_and_openapi_prints_json(tmp_path: Path) -> None:
    for _ in range(2):
        result = authgate(tmp_path, "migrate")
        assert result.returncode == 0, result.stderr
    spec = authgate(tmp_path, "openapi")
    assert spec.returncode == 0
    assert "/register" in json.loads(spec.stdout)["paths"]


def test_there_is_no_default_admin_and_the_first_one_is_made_with_a_password_from_stdin(tmp_path: Path) -> None:
    assert authgate(tmp_path, "migrate").returncode == 0
    with sqlite3.connect(tmp_path / "authgate.db") as db:
        assert db.execute("SELECT COUNT(*) FROM users").fetchone() == (0,)
        assert {row[0] for row in db.execute("SELECT name FROM roles")} == {"user", "admin"}

    missing = authgate(tmp_path, "user", "create", "--email", "root@example.com")
    assert missing.returncode == 2 and "--password-stdin" in missing.stderr
    unknown = authgate(
        tmp_path,
        "user",
        "create",
        "--email",
        "r@example.com",
        "--role",
        "root",
        "--password-stdin",
        stdin="Admin-Pass-123\n",
    )
    assert unknown.returncode == 1 and "role" in unknown.stderr and "admin" in unknown.stderr
    created = authgate(
        tmp_path,
        "user",
        "create",
        "--email",
        "root@example.com",
        "--role",
        "admin",
        "--password-stdin",
        stdin="Admin-Pass-123\n",
    )
    assert created.returncode == 0, created.stderr
    assert "Admin-Pass-123" not in created.stdout + created.stderr
    with running_server(tmp_path) as base:
        login = httpx.post(f"{base}/login", json={"email": "root@example.com", "password": "Admin-Pass-123"})
        assert login.status_code == 200 and login.json()["user"]["caps"] == ["*"]
