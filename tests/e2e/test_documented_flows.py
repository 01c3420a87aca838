"""The curl examples of the JSON login API and the `/api/v1/auth` JWT API, run verbatim (host and port aside) with curl against a
real `authgate serve` process, answer with the documented status codes and bodies."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jwt
import pytest

from tests.support.server import running_server

pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")


def curl(*args: str) -> tuple[int, Any]:
    """Run curl, return (status, parsed JSON body)."""
    result = subprocess.run(
        ["curl", "-s", "-w", "\n%{http_code}", *args], capture_output=True, text=True, timeout=30, check=True
    )
    body, _, status = result.stdout.rpartition("\n")
    return int(status), json.loads(body) if body else None


def test_json_api_register_and_login(tmp_path: Path, server_database: dict[str, str]) -> None:
    # The JSON login API documents only "at least 8 characters"; such a deployment turns the mixed-case
    # rule off (the default is on, see docs/configuration.md).
    with running_server(tmp_path, AUTHGATE_PASSWORD_REQUIRE_MIXED="false", **server_database) as base:
        status, body = curl(
            "-X",
            "POST",
            f"{base}/api/auth/register",
            "-H",
            "Content-Type: application/json",
            "-d",
            '{\n    "name": "John Doe",\n    "email": "john@example.com",\n    "password": "securepassword123"\n  }',
        )
        assert status == 201, body
        assert body["name"] == "John Doe" and body["email"] == "john@example.com" and body["token"]

        status, body = curl(
            "-X",
            "POST",
            f"{base}/api/auth/login",
            "-H",
            "Content-Type: application/json",
            "-d",
            '{\n    "email": "john@example.com",\n    "password": "securepassword123"\n  }',
        )
        assert status == 200, body
        assert body["name"] == "John Doe" and body["email"] == "john@example.com"
        token = body["token"]
        header = jwt.get_unverified_header(token)
        assert header["alg"] == "HS256" and header["typ"] == "JWT" and header["kid"]

        status, body = curl(
            "-X",
            "POST",
            f"{base}/api/auth/register",
            "-H",
            "Content-Type: application/json",
            "-d",
            '{"name": "John Doe", "email": "john@example.com", "password": "securepassword123"}',
        )
        assert status == 409 and body["code"] == "email_taken"
        status, body = curl(
            "-X",
            "POST",
            f"{base}/api/auth/register",
            "-H",
            "Content-Type: application/json",
            "-d",
            '{"name": "' + "x" * 101 + '", "email": "bad", "password": "short"}',
        )
        assert status == 400
        assert {e["field"] for e in body["errors"]} == {"name", "email", "password"}
        status, body = curl(
            "-X",
            "POST",
            f"{base}/api/auth/login",
            "-H",
            "Content-Type: application/json",
            "-d",
            '{"email": "not-an-email", "password": "securepassword123"}',
        )
        assert status == 400
        status, body = curl(
            "-X",
            "POST",
            f"{base}/api/auth/login",
            "-H",
            "Content-Type: application/json",
            "-d",
            '{"email": "john@example.com", "password": "wrongpassword123"}',
        )
        assert status == 401 and body["code"] == "invalid_credentials"
        status, body = curl(f"{base}/api/auth/profile", "-H", f"Authorization: Bearer {token}")
        assert status == 200 and body["email"] == "john@example.com"


def test_jwt_api_register_login_profile(tmp_path: Path, server_database: dict[str, str]) -> None:
    with running_server(tmp_path, **server_database) as base:
        status, body = curl(
            "-X",
            "POST",
            f"{base}/api/v1/auth/register",
            "-H",
            "Content-Type: application/json",
            "-d",
            '{\n"email": "test@example.com",\n"password": "TestPass123"\n}',
        )
        assert status == 201, body
        assert body["user"]["email"] == "test@example.com" and body["user"]["id"] and body["token"]

        status, body = curl(
            "-X",
            "POST",
            f"{base}/api/v1/auth/login",
            "-H",
            "Content-Type: application/json",
            "-d",
            '{\n"email": "test@example.com",\n"password": "TestPass123"\n}',
        )
        assert status == 200, body
        assert body["user"]["email"] == "test@example.com"
        token = body["token"]

        status, body = curl(f"{base}/api/v1/auth/profile", "-H", f"Authorization: Bearer {token}")
        assert status == 200
        assert body["email"] == "test@example.com" and body["id"] and body["created_at"].endswith("Z")

        status, body = curl(
            "-X",
            "POST",
            f"{base}/api/v1/auth/register",
            "-H",
            "Content-Type: application/json",
            "-d",
            '{"email": "test@example.com", "password": "TestPass123"}',
        )
        assert status == 409
        status, body = curl(
            "-X",
            "POST",
            f"{base}/api/v1/auth/register",
            "-H",
            "Content-Type: application/json",
            "-d",
            '{"email": "other@example.com", "password": "testpass123"}',
        )
        assert status == 400 and body["code"] == "validation_failed"
        status, body = curl(
            "-X",
            "POST",
            f"{base}/api/v1/auth/login",
            "-H",
            "Content-Type: application/json",
            "-d",
            '{"email": "test@example.com", "password": "WrongPass123"}',
        )
        assert status == 401 and body["detail"] == "Invalid credentials."
        status, body = curl(f"{base}/api/v1/auth/profile", "-H", "Authorization: Bearer expired.or.junk")
        assert status == 401


def test_login_response_carries_the_role(tmp_path: Path, server_database: dict[str, str]) -> None:
    with running_server(tmp_path, **server_database) as base:
        subprocess.run(
            [
                "curl",
                "-s",
                "-X",
                "POST",
                f"{base}/api/auth/register",
                "-H",
                "Content-Type: application/json",
                "-d",
                '{"email": "user@example.com", "password": "Sturdy-Horse-42"}',
            ],
            check=True,
            capture_output=True,
            timeout=30,
        )
        status, body = curl(
            "-X",
            "POST",
            f"{base}/api/auth/login",
            "-H",
            "Content-Type: application/json",
            "-d",
            '{"email": "user@example.com", "password": "Sturdy-Horse-42"}',
        )
        assert status == 200
        assert body["token"] and body["user"]["id"] and body["user"]["email"] == "user@example.com"
        assert body["user"]["role"] == "user"
