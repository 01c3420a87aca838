"""A real `authgate serve` under clients that try to exhaust it: slow headers (slowloris),
hundreds of idle connections, oversized headers and bodies, deep or huge JSON. Each is refused
or cut off with a clear answer, and the server goes on answering everyone else promptly."""

from __future__ import annotations

import json
import select
import socket
import uuid
from collections.abc import Iterator, Sequence
from contextlib import ExitStack

import httpx
import pytest

from authgate.connection import HEADER_TIMEOUT_SECONDS
from tests.support.http import STRONG_PASSWORD
from tests.support.server import PATIENCE, Server, cpu_seconds

pytestmark = pytest.mark.slow
CHEAP = 2.0  # CPU seconds of the server: what a refusal may cost at most (not wall-clock: load cannot stretch it)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = Server(tmp_path_factory.mktemp("limits"), "limits")
    try:
        yield running
    finally:
        running.stop()


def others_are_served(server: Server, meanwhile: Sequence[socket.socket] = ()) -> None:
    """A health check and a real sign-in are answered, while every connection in `meanwhile`
    is still held open and unanswered: served alongside them, not once they were cut off."""
    assert httpx.get(f"{server.base}/healthz", timeout=PATIENCE).status_code == 200
    nobody = f"nobody-{uuid.uuid4().hex[:8]}@example.com"  # a new one each time: no lockout builds up
    login = httpx.post(f"{server.base}/login", json={"email": nobody, "password": STRONG_PASSWORD}, timeout=PATIENCE)
    assert login.status_code == 401
    answered = [sock for sock in meanwhile if select.select([sock], [], [], 0)[0]]
    assert not answered, (
        f"{len(answered)} of the held connections were answered or closed before the others were served"
    )


def connect(server: Server, stack: ExitStack) -> socket.socket:
    sock = stack.enter_context(socket.create_connection(("127.0.0.1", server.port)))
    sock.settimeout(HEADER_TIMEOUT_SECONDS + PATIENCE)
    return sock


def answer_of(sock: socket.socket) -> bytes:
    """What the server sends before it closes (b"" if it closes without a word)."""
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except ConnectionResetError:
        pass
    return data


def test_slow_and_idle_connections_do_not_starve_others_and_are_cut_off(server: Server) -> None:
    """Slowloris: 150 connections trickle a request line and never finish their headers, 150
    more open and say nothing. Others are served all the while; after the header timeout the
    trickling ones get a 408 and the silent ones are closed."""
    with ExitStack() as stack:
        slow = [connect(server, stack) for _ in range(150)]
        idle = [connect(server, stack) for _ in range(150)]
        for sock in slow:
            sock.sendall(b"POST /login HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        others_are_served(server, meanwhile=slow + idle)
        for sock in slow:  # each read waits at most its socket's timeout: a connection never cut off fails
            assert answer_of(sock).startswith(b"HTTP/1.1 408 ")
        for sock in idle:
            assert answer_of(sock) == b""
    others_are_served(server)


@pytest.mark.parametrize(
    "headers",
    [
        b"X-Big: " + b"a" * 300_000 + b"\r\n",
        b"".join(b"X-H%d: %s\r\n" % (n, b"v" * 300) for n in range(1000)),
        b"Cookie: " + b"c=" + b"x" * 200_000 + b"\r\n",
    ],
    ids=["one_large_header", "a_thousand_headers", "a_huge_cookie"],
)
def test_oversized_headers_are_refused_with_431(server: Server, headers: bytes) -> None:
    """Headers are counted as they arrive, so at most the limit and one read from the socket
    are ever held; whatever is well past the limit is refused before it is all read."""
    with ExitStack() as stack:
        sock = connect(server, stack)
        try:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused while still sending: the answer is already waiting
        answer = answer_of(sock)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431 "), answer[:200]
    assert json.loads(body)["code"] == "headers_too_large"
    others_are_served(server)


def test_a_normal_request_with_a_body_larger_than_the_header_limit_passes(server: Server) -> None:
    """The header limit counts headers only: a body sent in the same packet is the body's
    business (limited by AUTHGATE_MAX_BODY_BYTES)."""
    body = json.dumps({"email": "nobody@example.com", "password": STRONG_PASSWORD, "name": "x" * 50_000}).encode()
    with ExitStack() as stack:
        sock = connect(server, stack)
        sock.sendall(
            b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
        )
        assert answer_of(sock).split(b"\r\n", 1)[0] in {b"HTTP/1.1 400 Bad Request", b"HTTP/1.1 401 Unauthorized"}


def test_oversized_bodies_are_refused_with_413_declared_or_streamed(server: Server) -> None:
    declared = httpx.post(
        f"{server.base}/login",
        content=b"{" + b" " * 70_000 + b"}",
        headers={"content-type": "application/json"},
        timeout=PATIENCE,
    )
    assert declared.status_code == 413 and declared.json()["code"] == "payload_too_large"

    def chunks() -> Iterator[bytes]:  # no Content-Length: the server counts as it reads
        for _ in range(100):
            yield b" " * 16_384

    streamed = httpx.post(
        f"{server.base}/register", content=chunks(), headers={"content-type": "application/json"}, timeout=PATIENCE
    )
    assert streamed.status_code == 413 and streamed.json()["code"] == "payload_too_large"
    with ExitStack() as stack:  # a body that says it is huge and never comes
        sock = connect(server, stack)
        sock.sendall(
            b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 9999999999\r\n\r\n"
        )
        assert answer_of(sock).startswith(b"HTTP/1.1 413 ")
    others_are_served(server)


@pytest.mark.parametrize(
    "body",
    [
        "[" * 30_000,
        '{"email":' * 5_000 + "1" + "}" * 5_000,
        json.dumps({f"k{n}": n for n in range(3_000)}),
        json.dumps({"email": "a@example.com", "password": "p" * 60_000}),
        json.dumps([{"email": "a@example.com"}] * 1_500),
    ],
    ids=["deep_array", "deep_object", "many_keys", "long_string", "big_array"],
)
def test_deep_or_huge_json_is_a_400_and_costs_others_nothing(server: Server, body: str) -> None:
    for path in ("/login", "/register"):
        spent = cpu_seconds(server.process.pid)
        answer = httpx.post(
            f"{server.base}{path}", content=body, headers={"content-type": "application/json"}, timeout=PATIENCE
        )
        assert answer.status_code == 400, answer.text[:300]
        assert answer.json()["code"] == "validation_failed"
        assert cpu_seconds(server.process.pid) - spent < CHEAP
    others_are_served(server)
