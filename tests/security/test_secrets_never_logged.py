"""No secret is ever written to a log (ASVS 7.1; OWASP logging): a real `authgate serve` at
DEBUG, with the access log on, goes through every flow that carries a secret: passwords,
access and refresh tokens, the Authorization header, the TOTP seed and codes, recovery codes,
an mfaToken, link tokens in URLs, one-time codes. Then its whole output is searched for each."""

from __future__ import annotations

import asyncio
from email.message import EmailMessage
from pathlib import Path

import httpx
import pyotp
import pytest

from tests.support.http import STRONG_PASSWORD, bearer
from tests.support.mail import Mailbox, link_in, mail_code
from tests.support.server import Server

NEW_PASSWORD = "Another-Strong-Pass-456"
WRONG_PASSWORD = "Not-My-Password-789"


def mail(mailbox: Mailbox, address: str, count: int) -> EmailMessage:
    return asyncio.run(mailbox.wait_for(address, count))


@pytest.mark.slow
def test_no_secret_reaches_the_log(tmp_path: Path, mailbox: Mailbox) -> None:
    server = Server(
        tmp_path,
        "logs",
        serve_args=("--access-log",),
        AUTHGATE_LOG_LEVEL="DEBUG",
        AUTHGATE_SMTP_HOST="127.0.0.1",
        AUTHGATE_SMTP_PORT=str(mailbox.port),
        AUTHGATE_SMTP_STARTTLS="false",
        AUTHGATE_SMTP_FROM="auth@example.com",
    )
    secrets: list[str] = [STRONG_PASSWORD, NEW_PASSWORD, WRONG_PASSWORD]
    email = "ada@example.com"
    try:
        with httpx.Client(base_url=server.base, timeout=10) as client:
            registered = client.post("/register", json={"email": email, "password": STRONG_PASSWORD}).json()
            access, refresh = registered["token"], registered["refreshToken"]
            secrets += [access, refresh]
            assert client.post("/login", json={"email": email, "password": WRONG_PASSWORD}).status_code == 401
            assert client.get("/user", headers=bearer(access)).status_code == 200
            refreshed = client.post("/token/refresh", json={"refreshToken": refresh}).json()
            access = refreshed["token"]
            secrets += [access, refreshed["refreshToken"]]

            seed = client.post("/mfa/setup", headers=bearer(access)).json()["secret"]
            totp = pyotp.TOTP(seed)
            enabled = client.post(
                "/mfa/enable", headers=bearer(access), json={"secret": seed, "verificationCode": totp.now()}
            ).json()
            secrets += [seed, totp.now(), *enabled["recoveryCodes"]]
            challenge = client.post("/login", json={"email": email, "password": STRONG_PASSWORD}).json()
            secrets.append(challenge["mfaToken"])
            verified = client.post(
                "/mfa/verify", json={"mfaToken": challenge["mfaToken"], "code": enabled["recoveryCodes"][0]}
            ).json()
            secrets += [verified["token"], verified["refreshToken"]]

            assert client.post("/password/forgot", json={"email": email}).status_code == 202
            reset = link_in(mail(mailbox, email, 1), "/password/reset/")
            secrets.append(reset.rsplit("/", 1)[1])
            assert client.get(reset).status_code == 200
            assert client.post(reset, json={"password": NEW_PASSWORD}).status_code == 200

            assert client.post("/login/magic", json={"email": email}).status_code == 202
            magic = link_in(mail(mailbox, email, 2), "/login/magic/")
            secrets.append(magic.rsplit("/", 1)[1])
            assert client.get(magic).status_code in {200, 401}  # the second factor is still asked

            assert client.post("/otp/send", json={"channel": "email", "email": email}).status_code == 202
            secrets.append(mail_code(mail(mailbox, email, 3)))
    finally:
        server.stop()
    log = server.log_path.read_text()
    assert "sign_in_failed" in log and '"POST /login HTTP/1.1" 401' in log  # it did log, in detail
    assert "/password/reset/[redacted]" in log and "/login/magic/[redacted]" in log
    for secret in secrets:
        assert secret not in log, f"a secret ({len(secret)} characters) is in the log"
