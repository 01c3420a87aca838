"""A real `authgate serve` process mails a real SMTP server on loopback: the courier runs in
the server's lifespan, links carry AUTHGATE_PUBLIC_URL whatever Host the request named."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.support.http import STRONG_PASSWORD
from tests.support.mail import Mailbox, link_in, wait_for_mail
from tests.support.server import running_server


@pytest.mark.slow
def test_reset_and_magic_link_against_a_real_server(tmp_path: Path, server_database: dict[str, str]) -> None:
    box = Mailbox()
    box.start()
    try:
        env = {
            "AUTHGATE_SMTP_HOST": "127.0.0.1",
            "AUTHGATE_SMTP_PORT": str(box.port),
            "AUTHGATE_SMTP_STARTTLS": "false",
            "AUTHGATE_SMTP_FROM": "auth@e2e.example",
            "AUTHGATE_DELIVERY_RETRY_BASE_SECONDS": "0.1",
        }
        with running_server(tmp_path, **env, **server_database) as base:
            reg = httpx.post(f"{base}/register", json={"email": "e2e@example.com", "password": STRONG_PASSWORD})
            assert reg.status_code == 201
            poisoned = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
            forgot = httpx.post(f"{base}/password/forgot", json={"email": "e2e@example.com"}, headers=poisoned)
            assert forgot.status_code == 202
            mail = wait_for_mail(box, "e2e@example.com")
            assert "evil.example" not in mail.as_string()
            link = link_in(mail, "/password/reset/")
            assert link.startswith(f"{base}/password/reset/")
            assert httpx.get(link).json() == {"valid": True}
            assert httpx.post(link, json={"password": "Brand-New-Horse-77"}).status_code == 200
            assert httpx.post(link, json={"password": "Brand-New-Horse-78"}).status_code == 400

            assert httpx.post(f"{base}/api/auth/login/magic", json={"email": "e2e@example.com"}).status_code == 202
            magic = link_in(wait_for_mail(box, "e2e@example.com", 2), "/login/magic/")
            signed_in = httpx.get(magic)
            assert signed_in.status_code == 200 and signed_in.json()["email"] == "e2e@example.com"
        log = (tmp_path / "server.log").read_text()
        assert "message_sent" in log
        assert link.rsplit("/", 1)[1] not in log and magic.rsplit("/", 1)[1] not in log
    finally:
        box.stop()
