"""What a worker loads: optional libraries only when configured, so that an idle worker stays
small (bench/RESULTS.md measures it). Each case runs in a fresh interpreter."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.app import TEST_SECRET

pytestmark = pytest.mark.slow  # real processes

# Libraries a feature needs, loaded only once it is configured or first used.
OPTIONAL = (
    "redis",
    "asyncpg",
    "alembic",
    "zxcvbn",
    "authlib",  # sign-in providers
    "joserfc",  # sign-in providers' identity tokens; asymmetric signing keys
    "aiosmtplib",  # the first mail
    "pyotp",  # the first authenticator enrolment or code
    "segno",  # the first authenticator enrolment's QR code
    "altcha",  # AUTHGATE_CAPTCHA_PROVIDER=altcha
    "argon2",  # AUTHGATE_PASSWORD_HASH=argon2id, or the first argon2 hash checked
    "webauthn",  # the first passkey ceremony
    "cbor2",
    "OpenSSL",
    "sqlalchemy.dialects.postgresql",  # a PostgreSQL database
)

PROBE = """
import gc, json, os, sys
import httpx
import authgate.app
from authgate.runtime.root import Runtime
from authgate.settings import Settings
app = authgate.app.create_app()
runtime = Runtime.build(Settings())
exec(os.environ.get("PROBE_THEN", ""))
print(json.dumps({
    "loaded": sorted(m for m in json.loads(sys.argv[1]) if m in sys.modules),
    "handled": sorted({c.__module__.split(".")[0] for c in app.exception_handlers if isinstance(c, type)}),
    "http_clients": sum(isinstance(o, httpx.AsyncClient) for o in gc.get_objects()),
}))
"""


def probe(**env: str) -> dict[str, Any]:
    """What a fresh interpreter loaded after building the app and the runtime (and running
    PROBE_THEN, if given). PYTHONPATH is passed on: the code probed is the code under test."""
    passed = {name: os.environ[name] for name in ("PYTHONPATH",) if name in os.environ}
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(OPTIONAL)],
        env={"PATH": "/usr/bin:/bin", "JWT_SECRET": TEST_SECRET, **passed, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    answer: dict[str, Any] = json.loads(result.stdout.splitlines()[-1])
    return answer


def test_sqlite_without_redis_loads_no_driver_and_no_migration_tooling(tmp_path: Path) -> None:
    seen = probe(AUTHGATE_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/a.db")
    assert seen["loaded"] == []
    assert "redis" not in seen["handled"] and "asyncpg" not in seen["handled"]


def test_postgres_and_redis_errors_are_still_handled_when_configured() -> None:
    seen = probe(
        AUTHGATE_DATABASE_URL="postgresql+asyncpg://postgres@127.0.0.1:5432/test",
        AUTHGATE_REDIS_URL="redis://127.0.0.1:6379/0",
    )
    assert {"asyncpg", "redis"} <= set(seen["loaded"])
    assert {"asyncpg", "redis"} <= set(seen["handled"])


def test_no_outbound_http_client_until_a_provider_needs_one(tmp_path: Path) -> None:
    """Each client holds a TLS context (about 7 MB). Webhook deliveries make theirs on the
    first delivery (tests/delivery proves those still arrive)."""
    database = f"sqlite+aiosqlite:///{tmp_path}/a.db"
    assert probe(AUTHGATE_DATABASE_URL=database)["http_clients"] == 0
    with_provider = probe(
        AUTHGATE_DATABASE_URL=database,
        AUTHGATE_OAUTH_GITHUB_CLIENT_ID="id",
        AUTHGATE_OAUTH_GITHUB_CLIENT_SECRET="secret",
    )
    assert with_provider["http_clients"] == 1


def test_feature_libraries_load_only_when_a_feature_is_used(tmp_path: Path) -> None:
    """Sign-in providers, mail, authenticator apps, passkeys and ALTCHA: off, or not yet used, their
    libraries stay out of the process (about 4 MB together; bench/RESULTS.md)."""
    database = f"sqlite+aiosqlite:///{tmp_path}/a.db"
    assert probe(AUTHGATE_DATABASE_URL=database)["loaded"] == []
    used = probe(
        AUTHGATE_DATABASE_URL=database,
        AUTHGATE_OAUTH_GITHUB_CLIENT_ID="id",
        AUTHGATE_OAUTH_GITHUB_CLIENT_SECRET="secret",
        AUTHGATE_CAPTCHA_PROVIDER="altcha",
        PROBE_THEN=(
            "from authgate.security import totp\n"
            "totp.qr_data_url(totp.otpauth_url(totp.new_secret(), account='a@example.com', issuer='x'))\n"
            "runtime.captcha.challenge()\n"
            "from authgate.methods.passkey import ceremony\n"
            "ceremony.authentication_options(runtime.settings.relying_party, allowed=[], challenge=b'c' * 32,"
            " user_verification=True)\n"
            "import asyncio\n"
            "asyncio.run(runtime.providers['github'].authorization_url("
            "state='s', nonce='n', verifier='v' * 43, redirect_uri='http://localhost/cb'))\n"
            "from authgate.delivery.base import Message\n"
            "from authgate.delivery.smtp import SmtpChannel\n"
            "channel = SmtpChannel(host='127.0.0.1', port=9, username=None, password=None, sender='a@example.com',"
            " starttls=False, timeout=1)\n"
            "try: asyncio.run(channel.send(Message(channel='email', to='b@example.com', subject='s', text='t')))\n"
            "except Exception: pass\n"
        ),
    )
    assert {"authlib", "aiosmtplib", "pyotp", "segno", "altcha", "webauthn", "cbor2"} <= set(used["loaded"])


def test_argon2_loads_when_configured_or_when_an_argon2_hash_is_checked(tmp_path: Path) -> None:
    database = f"sqlite+aiosqlite:///{tmp_path}/a.db"
    configured = probe(
        AUTHGATE_DATABASE_URL=database,
        AUTHGATE_PASSWORD_HASH="argon2id",
        AUTHGATE_ARGON2_MEMORY_KIB="19456",
        AUTHGATE_ARGON2_TIME_COST="2",
    )
    assert configured["loaded"] == ["argon2"]
    checked = probe(
        AUTHGATE_DATABASE_URL=database,
        PROBE_THEN=(
            "from authgate.security import hashing\n"
            "hashing.verify('argon2id', 'x', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA')\n"
        ),
    )
    assert checked["loaded"] == ["argon2"]


def test_serve_asks_uvicorn_for_no_websocket_protocol(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """authgate has no WebSocket route; uvicorn's default would load the websockets library
    into every worker (about 1 MB)."""
    from authgate import cli, serving
    from authgate.observability import workers

    monkeypatch.setenv("JWT_SECRET", TEST_SECRET)
    monkeypatch.setenv("AUTHGATE_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/a.db")
    monkeypatch.setenv("AUTHGATE_PUBLIC_URL", "http://127.0.0.1:8000")
    monkeypatch.setattr(cli, "_migrate_apart", lambda _settings: True)
    monkeypatch.setattr(signal, "signal", lambda *_args: None)  # the test process keeps its handlers
    monkeypatch.setattr(workers, "share_across_workers", lambda _count: None)
    served: list[Any] = []  # the uvicorn.Config a single worker is served with, not served here
    monkeypatch.setattr(serving, "serve", lambda config, sockets=None: served.append(config) or True)
    monkeypatch.chdir(tmp_path)  # no .env read from the checkout
    assert cli.cmd_serve(cli.build_parser().parse_args(["serve", "--port", "8000"])) == 0
    assert [(config.ws, config.workers) for config in served] == [("none", 1)]
