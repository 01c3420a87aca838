"""Development without SMTP: `authgate serve` takes its public URL from the address it serves
when none is configured, and `authgate mail` shows each queued message's link or code, once or
as they come (`--follow`)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support.http import STRONG_PASSWORD
from tests.support.server import PATIENCE, free_port, run_authgate, server_env, wait_healthy


def serve(workdir: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    """`authgate serve --port <free>` with `env`, healthy; the process and its base URL."""
    port = free_port()
    with (workdir / "server.log").open("ab") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "authgate", "serve", "--port", str(port)],
            cwd=workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(server, base, workdir / "server.log")
    except BaseException:
        server.kill()
        raise
    return server, base


def test_serve_links_use_the_address_served_and_mail_shows_them(tmp_path: Path) -> None:
    env = server_env(tmp_path, None)
    env.pop("AUTHGATE_PUBLIC_URL", None)
    server, base = serve(tmp_path, env)
    named = base.replace("127.0.0.1", "localhost")  # a loopback address is named localhost (passkeys need a name)
    follower = None
    try:
        assert f"AUTHGATE_PUBLIC_URL is not set; using {named}" in (tmp_path / "server.log").read_text()
        follower = subprocess.Popen(
            [sys.executable, "-m", "authgate", "mail", "--follow"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert follower.stdout is not None
        assert "The outbox is empty" in follower.stdout.readline()

        registered = httpx.post(f"{base}/register", json={"email": "ada@example.com", "password": STRONG_PASSWORD})
        assert registered.status_code == 201
        assert httpx.post(f"{base}/password/forgot", json={"email": "ada@example.com"}).status_code == 202
        assert httpx.post(f"{base}/otp/send", json={"channel": "email", "email": "ada@example.com"}).status_code == 202
        assert httpx.post(f"{base}/password/forgot", json={"email": "nobody@example.com"}).status_code == 202

        followed = [follower.stdout.readline() for _ in range(3)]
        shown = run_authgate(tmp_path, "mail", AUTHGATE_PUBLIC_URL=named).stdout
        legacy = subprocess.run(
            [sys.executable, "-m", "authgate.delivery", "--body"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        if follower is not None:
            follower.terminate()
            follower.communicate(timeout=10)
        server.terminate()
        server.wait(timeout=10)

    reset_line = next(line for line in followed if "reset_password" in line)
    assert "ada@example.com" in reset_line and f"{named}/password/reset/" in reset_line
    link = reset_line.split()[-1]
    code_line = next(line for line in followed if "otp_code" in line)
    assert code_line.split()[-1].isdigit() and len(code_line.split()[-1]) == 6
    assert "nobody@example.com  (no such account: not sent)" in next(line for line in followed if "nobody" in line)
    assert link in shown  # the same, listed once
    assert shown.index("reset_password") < shown.index("otp_code")  # oldest first, as they came
    assert legacy.returncode == 0, legacy.stderr
    assert link in legacy.stdout and "Subject: Reset your password" in legacy.stdout  # --body


def test_a_configured_public_url_is_kept(tmp_path: Path) -> None:
    env = {**server_env(tmp_path, None), "AUTHGATE_PUBLIC_URL": "https://auth.example.com"}
    server, base = serve(tmp_path, env)
    try:
        httpx.post(f"{base}/register", json={"email": "ada@example.com", "password": STRONG_PASSWORD})
        httpx.post(f"{base}/password/forgot", json={"email": "ada@example.com"})
        deadline = time.monotonic() + PATIENCE
        while "reset_password" not in (shown := run_authgate(tmp_path, "mail", **env_of(env)).stdout):
            assert time.monotonic() < deadline, shown
            time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert "https://auth.example.com/password/reset/" in shown
    assert "not set" not in (tmp_path / "server.log").read_text()


def env_of(env: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k.startswith("AUTHGATE_") and k not in os.environ}
