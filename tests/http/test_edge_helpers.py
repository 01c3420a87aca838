"""Log redaction and client-address resolution."""

from __future__ import annotations

from starlette.requests import Request

from authgate.http.request_scope import client_ip
from authgate.observability.logging import redact


def test_redact_blanks_every_credential_like_key() -> None:
    event = {
        "event": "login",
        "password": "p",
        "pin": "0000",
        "refreshToken": "r",
        "mfaCode": "123456",
        "authorization": "Bearer x",
        "totp_secret": "S",
        "password_hash": "$2b$",
        "email": "a@example.com",
    }
    cleaned = redact(None, "info", dict(event))
    assert cleaned["email"] == "a@example.com" and cleaned["event"] == "login"
    for key in event.keys() - {"email", "event"}:
        assert cleaned[key] == "[redacted]", key


def request_from(peer: str, forwarded: str | None) -> Request:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers, "client": (peer, 1234)})


def test_forwarded_for_is_ignored_from_untrusted_peers() -> None:
    assert client_ip(request_from("198.51.100.9", "1.2.3.4"), trusted=[]) == "198.51.100.9"
    assert client_ip(request_from("198.51.100.9", "1.2.3.4"), trusted=["10.0.0.0/8"]) == "198.51.100.9"


def test_forwarded_for_is_read_from_the_right_through_trusted_proxies() -> None:
    trusted = ["10.0.0.0/8", "127.0.0.1"]
    # The client forged "6.6.6.6"; the proxy appended the real address it saw.
    assert client_ip(request_from("10.1.1.1", "6.6.6.6, 203.0.113.5"), trusted) == "203.0.113.5"
    assert client_ip(request_from("127.0.0.1", "203.0.113.5, 10.2.2.2"), trusted) == "203.0.113.5"
    assert client_ip(request_from("10.1.1.1", None), trusted) == "10.1.1.1"
