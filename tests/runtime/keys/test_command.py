"""`authgate keys rotate|list` beside a running `authgate serve`: the server picks up a key the
command made, old tokens verify through the grace period, and `--grace 0` ends them."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import jwt
import pytest

from tests.support.http import STRONG_PASSWORD
from tests.support.server import Server, run_authgate, wait

pytestmark = pytest.mark.slow  # real processes

EDDSA = {"AUTHGATE_JWT_ALGORITHM": "EdDSA"}


def keys_command(workdir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run_authgate(workdir, "keys", *args, **env)


def kid_of(token: str) -> str:
    kid: str = jwt.get_unverified_header(token)["kid"]
    return kid


def test_keys_command_refuses_under_hs256(tmp_path: Path) -> None:
    result = keys_command(tmp_path, "rotate")
    assert result.returncode == 2 and "JWT_SECRET" in result.stderr and "AUTHGATE_JWT_ALGORITHM" in result.stderr


def test_rotation_by_command_reaches_a_running_server(tmp_path: Path) -> None:
    server = Server(tmp_path, **EDDSA)
    try:
        with httpx.Client(base_url=server.base) as http:
            body = {"email": "ada@example.com", "password": STRONG_PASSWORD}
            assert http.post("/register", json=body).status_code == 201
            old = http.post("/login", json=body).json()["token"]

            rotated = keys_command(tmp_path, "rotate", "--grace", "60", **EDDSA)
            assert rotated.returncode == 0, rotated.stderr
            new_kid = rotated.stdout.split("new signing key ")[1].split(";")[0]
            assert new_kid != kid_of(old)

            def signs_with_new_key() -> bool:
                return kid_of(http.post("/login", json=body).json()["token"]) == new_kid

            wait(signs_with_new_key, what="the server picking up the new key")
            assert [k["kid"] for k in http.get("/.well-known/jwks.json").json()["keys"]] == [new_kid, kid_of(old)]
            assert http.get("/profile", headers={"Authorization": f"Bearer {old}"}).status_code == 200

            listed = keys_command(tmp_path, "list", **EDDSA)
            assert listed.returncode == 0 and "signing" in listed.stdout and "verifies until" in listed.stdout
            assert new_kid in listed.stdout and kid_of(old) in listed.stdout

            # A compromised key: --grace 0 ends its tokens on every node within the reload interval.
            second = http.post("/login", json=body).json()["token"]
            assert keys_command(tmp_path, "rotate", "--grace", "0", **EDDSA).returncode == 0

            def refused() -> bool:
                return http.get("/profile", headers={"Authorization": f"Bearer {second}"}).status_code == 401

            wait(refused, what="tokens of a key rotated out with no grace refused")
    finally:
        server.stop()
