"""The captcha tests' fixtures: a real siteverify endpoint on a loopback port (what it answers
is in support/captcha.py), and an address where no provider listens."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest

from tests.support.captcha import SiteVerifyServer, siteverify_reply
from tests.support.server import free_port


@pytest.fixture(scope="session")
def siteverify() -> Iterator[SiteVerifyServer]:
    server_state = SiteVerifyServer(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length).decode()
            form = parse_qs(raw) if self.headers.get_content_type() == "application/x-www-form-urlencoded" else {}
            server_state.seen.append(form)
            status, content_type, body = siteverify_reply(form)
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
    return f"http://127.0.0.1:{free_port()}/siteverify"
