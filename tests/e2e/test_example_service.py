"""A real `authgate serve` and the example service (`examples/profile_service.py`, protected by
`authgate.client`) side by side, as two processes talking HTTP."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from tests.support.app import TEST_SECRET
from tests.support.http import STRONG_PASSWORD, bearer
from tests.support.paths import ROOT
from tests.support.server import Server, free_port, run_authgate, wait, wait_healthy

EXAMPLES = ROOT / "examples"
USER = {"email": "ada@example.com", "password": STRONG_PASSWORD}
ADMIN = {"email": "root@example.com", "password": STRONG_PASSWORD}


@contextmanager
def example_service(workdir: Path, authgate: str, **env: str) -> Iterator[str]:
    """The example service on a free port, pointed at `authgate`; yields its base URL."""
    port = free_port()
    log_path = workdir / f"example-{port}.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "profile_service:app", "--app-dir", str(EXAMPLES), "--port", str(port)],
            cwd=workdir,
            env={"PATH": "/usr/bin:/bin", "AUTHGATE_URL": authgate, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_healthy(process, f"http://127.0.0.1:{port}", log_path)
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            process.wait(timeout=10)


def make_admin(workdir: Path, **env: str) -> None:
    created = run_authgate(
        workdir, "user", "create", "--email", ADMIN["email"], "--role", "admin", "--verified", "--password-stdin",
        stdin=ADMIN["password"] + "\n", **env,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr


def token_of(http: httpx.Client, who: dict[str, str]) -> str:
    response = http.post("/login", json=who)
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token


def refused(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code and response.json()["status"] == status


@pytest.mark.parametrize("mode", ["jwks", "secret"])
def test_example_service_admits_authgate_tokens_and_refuses_the_rest(tmp_path: Path, mode: str) -> None:
    keys = {"AUTHGATE_JWT_ALGORITHM": "EdDSA"} if mode == "jwks" else {}
    server = Server(tmp_path, **keys)
    # A second authgate on the same database and keys, issuing tokens for another audience.
    other_audience = Server(tmp_path, "billing", AUTHGATE_JWT_AUDIENCE="billing", **keys)
    local = {"JWT_SECRET": TEST_SECRET} if mode == "secret" else {}
    try:
        make_admin(tmp_path, **keys)
        with (
            example_service(tmp_path, server.base, **local) as example,
            httpx.Client(base_url=server.base) as auth,
            httpx.Client(base_url=example) as api,
        ):
            assert auth.post("/register", json=USER).status_code == 201
            token = token_of(auth, USER)
            user_id = jwt.decode(token, options={"verify_signature": False})["sub"]

            opened = api.get("/api/profile", headers=bearer(token))
            assert opened.status_code == 200, opened.text
            assert opened.json() == {"id": user_id, "email": USER["email"]}

            missing = api.get("/api/profile")
            refused(missing, 401, "invalid_token")
            assert missing.headers["www-authenticate"].startswith("Bearer")

            claims = jwt.decode(token, options={"verify_signature": False})
            kid = jwt.get_unverified_header(token)["kid"]
            if mode == "jwks":
                forged = jwt.encode(claims, ed25519.Ed25519PrivateKey.generate(), "EdDSA", headers={"kid": kid})
            else:
                forged = jwt.encode(claims, "another-secret-that-is-long-enough-000", "HS256", headers={"kid": kid})
            refused(api.get("/api/profile", headers=bearer(forged)), 401, "invalid_token")
            tampered = jwt.encode({**claims, "role": "admin"}, "x" * 32, "HS256")
            refused(api.get("/api/profile", headers=bearer(tampered)), 401, "invalid_token")

            with httpx.Client(base_url=other_audience.base) as billing:
                wrong_audience = token_of(billing, USER)
            assert jwt.decode(wrong_audience, options={"verify_signature": False})["aud"] == "billing"
            refused(api.get("/api/profile", headers=bearer(wrong_audience)), 401, "invalid_token")

            # Capabilities and roles: a plain user has neither; the admin ("*") has both.
            refused(api.delete("/api/things/7", headers=bearer(token)), 403, "forbidden")
            refused(api.get("/api/admin/report", headers=bearer(token)), 403, "forbidden")
            admin = token_of(auth, ADMIN)
            assert api.delete("/api/things/7", headers=bearer(admin)).json()["deleted"] == "7"
            assert api.get("/api/admin/report", headers=bearer(admin)).status_code == 200
    finally:
        other_audience.stop()
        server.stop()


def test_expired_token_is_refused_as_expired(tmp_path: Path) -> None:
    # Ten seconds: time enough, on a loaded machine, to use the token once before it expires.
    server = Server(tmp_path, AUTHGATE_JWT_ALGORITHM="ES256", JWT_EXPIRATION_MS="10000")
    try:
        with example_service(tmp_path, server.base) as example, httpx.Client(base_url=server.base) as auth:
            assert auth.post("/register", json=USER).status_code == 201
            token = token_of(auth, USER)
            assert httpx.get(f"{example}/api/profile", headers=bearer(token)).status_code == 200
            expires = jwt.decode(token, options={"verify_signature": False})["exp"]
            wait(lambda: time.time() > expires + 0.2, what="the token's expiry")  # by the clock the check reads
            refused(httpx.get(f"{example}/api/profile", headers=bearer(token)), 401, "token_expired")
    finally:
        server.stop()


GRACE = 30  # seconds: a generous bound for the steps that must happen within it on a loaded machine


def test_rotation_new_kid_is_fetched_and_old_key_ends_after_grace(tmp_path: Path) -> None:
    eddsa = {"AUTHGATE_JWT_ALGORITHM": "EdDSA"}
    server = Server(tmp_path, **eddsa)
    try:
        with (
            example_service(tmp_path, server.base) as example,
            httpx.Client(base_url=server.base) as auth,
            httpx.Client(base_url=example) as api,
        ):
            assert auth.post("/register", json=USER).status_code == 201
            old = token_of(auth, USER)
            assert api.get("/api/profile", headers=bearer(old)).status_code == 200  # the example holds the JWKS now

            started = time.monotonic()  # the grace period starts within the command
            rotated = run_authgate(tmp_path, "keys", "rotate", "--grace", str(GRACE), **eddsa)
            assert rotated.returncode == 0, rotated.stderr
            new_kid = rotated.stdout.split("new signing key ")[1].split(";")[0]

            def signs_with_new_key() -> bool:
                return jwt.get_unverified_header(token_of(auth, USER))["kid"] == new_kid

            wait(signs_with_new_key, what="authgate picking up the new key")
            fresh = token_of(auth, USER)
            # The example cached the JWKS for minutes, but an unknown kid makes it fetch again.
            assert api.get("/api/profile", headers=bearer(fresh)).status_code == 200
            assert time.monotonic() - started < GRACE - 1, "the grace period is over already: the machine is too slow"
            assert api.get("/api/profile", headers=bearer(old)).status_code == 200, "within the grace period"

            def old_refused() -> bool:
                return api.get("/api/profile", headers=bearer(old)).status_code == 401

            wait(old_refused, what="a key rotated out refused by the example after its grace")
            assert time.monotonic() - started >= GRACE, "refused before the grace period ended"
            assert auth.get("/profile", headers=bearer(old)).status_code == 401
            assert api.get("/api/profile", headers=bearer(fresh)).status_code == 200
    finally:
        server.stop()


def test_introspection_reports_a_revoked_session_at_once(tmp_path: Path) -> None:
    eddsa = {"AUTHGATE_JWT_ALGORITHM": "EdDSA"}
    server = Server(tmp_path, **eddsa)
    try:
        make_admin(tmp_path, **eddsa)
        created = run_authgate(tmp_path, "service", "create", "--name", "profile-service", **eddsa)
        assert created.returncode == 0, created.stderr
        lines = dict(line.split(":", 1) for line in created.stdout.splitlines() if line.startswith("client_"))
        credential = {
            "AUTHGATE_CLIENT_ID": lines["client_id"].strip(),
            "AUTHGATE_CLIENT_SECRET": lines["client_secret"].strip(),
        }
        live = {**credential, "AUTHGATE_INTROSPECTION_CACHE_SECONDS": "0.5"}
        with (
            example_service(tmp_path, server.base, **live) as example,
            httpx.Client(base_url=server.base) as auth,
            httpx.Client(base_url=example) as api,
        ):
            admin = token_of(auth, ADMIN)
            assert api.delete("/api/things/1", headers=bearer(admin)).status_code == 200
            assert auth.post("/logout", headers=bearer(admin)).status_code == 200
            time.sleep(0.6)  # the example's introspection cache

            # The sensitive route asks authgate, which reports the session ended ...
            refused(api.delete("/api/things/1", headers=bearer(admin)), 401, "invalid_token")
            basic = (credential["AUTHGATE_CLIENT_ID"], credential["AUTHGATE_CLIENT_SECRET"])
            answer = auth.post("/token/introspect", data={"token": admin}, auth=basic)
            assert answer.status_code == 200 and answer.json() == {"active": False}
            # ... while a route that verifies only locally still admits the token until it expires.
            assert api.get("/api/profile", headers=bearer(admin)).status_code == 200
    finally:
        server.stop()
