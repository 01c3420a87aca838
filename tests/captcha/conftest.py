"""A real siteverify endpoint on a loopback port, speaking the protocol Turnstile, hCaptcha and
reCAPTCHA share: a form POST of `secret`, `response` and `remoteip`, a JSON reply with
`success` (and `score` for reCAPTCHA v3). It accepts only the right secret, the client's
address, and the tokens below; every request it got is kept, so tests can look at them."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest

from tests.abuse.conftest import redis_prefix, redis_url

__all__ = ["redis_prefix", "redis_url"]  # the Redis fixtures, for the shared-state cases

SECRET = "provider-secret-0123456789"
CLIENT_IP = "203.0.113.7"  # the address tests/conftest.make_client connects from
GOOD = "good-token"
LOW_SCORE = "low-score-token"
GARBAGE = "garbage-token"  # answered with an HTML page
BROKEN = "broken-token"  # answered with a 500


@dataclass
class SiteVerifyServer:
    url: str
    seen: list[dict[str, list[str]]] = field(default_factory=list)


def _reply(form: dict[str, list[str]]) -> tuple[int, str, bytes]:
    token = form.get("response", [""])[0]
    if token == GARBAGE:
        return 200, "text/html", b"<html>maintenance</html>"
    if token == BROKEN:
        return 500, "application/json", b'{"success": true}'
    if form.get("secret") != [SECRET]:
        answer: dict[str, Any] = {"success": False, "error-codes": ["invalid-input-secret"]}
    elif form.get("remoteip") != [CLIENT_IP]:
        answer = {"success": False, "error-codes": ["invalid-remoteip"]}
    elif token == GOOD:
        answer = {"success": True, "score": 0.9, "hostname": "testserver"}
    elif token == LOW_SCORE:
        answer = {"success": True, "score": 0.1, "hostname": "testserver"}
    else:
        answer = {"success": False, "error-codes": ["invalid-input-response"]}
    return 200, "application/json", json.dumps(answer).encode()


@pytest.fixture(scope="session")
def siteverify() -> Iterator[SiteVerifyServer]:
    server_state = SiteVerifyServer(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length).decode()
            form = parse_qs(raw) if self.headers.get_content_type() == "application/x-www-form-urlencoded" else {}
            server_state.seen.append(form)
            status, content_type, body = _reply(form)
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server_state.url = f"http://127.0.0.1:{httpd.server_address[1]}/siteverify"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield server_state
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture
def closed_port_url() -> str:
    """An address where nothing listens: a provider that is down."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/siteverify"
