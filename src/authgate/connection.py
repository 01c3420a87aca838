"""The HTTP/1.1 connection: uvicorn's httptools protocol, with a bound on request headers.

uvicorn (with httptools) reads request headers without a limit of size or time: one client
could send megabytes of headers on each of many connections, or trickle a byte at a time and
hold connections open for ever (slowloris). Here the headers of each request must arrive
within `HEADER_TIMEOUT_SECONDS` of its first byte (or of the connection's opening) and within
`MAX_HEADER_BYTES`; otherwise the connection gets a 408 or a 431 and is closed. Bodies are
bounded separately, by `AUTHGATE_MAX_BODY_BYTES` (http/middleware.Edge).
"""

from __future__ import annotations

import asyncio

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from authgate.errors import ErrorCode
from authgate.http.problems import problem_document

MAX_HEADER_BYTES = 32 * 1024  # nginx's default limit is of the same order
HEADER_TIMEOUT_SECONDS = 10.0


def _problem(status: int, reason: str, code: str, detail: str) -> bytes:
    body = orjson.dumps(problem_document(status, code, reason, detail))
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/problem+json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


TOO_LARGE = _problem(
    431,
    "Request Header Fields Too Large",
    ErrorCode.HEADERS_TOO_LARGE,
    f"Headers must be at most {MAX_HEADER_BYTES} bytes.",
)
TOO_SLOW = _problem(408, "Request Timeout", ErrorCode.REQUEST_TIMEOUT, "The request's headers did not arrive in time.")


class BoundedHeadersProtocol(HttpToolsProtocol):
    """See the module docstring. The count is checked after each read is parsed, so the
    headers held at once are at most the limit plus one read from the socket. The time is
    kept as a deadline set when a request begins, checked by one timer per connection that
    re-arms itself: a timer per request costs a measurable share of a small request."""

    _header_bytes = 0
    _reading_headers = True
    _deadline = 0.0
    _watch: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._expect_headers()
        self._watch = self.loop.call_at(self._deadline, self._check_deadline)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._reading_headers:
            self._header_bytes += len(data)
            if self._header_bytes > MAX_HEADER_BYTES and not self.transport.is_closing():
                self._refuse(TOO_LARGE)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if not self._reading_headers:  # the next request on a kept-alive connection
            self._expect_headers()

    def on_headers_complete(self) -> None:
        self._reading_headers = False
        super().on_headers_complete()

    def _expect_headers(self) -> None:
        self._reading_headers = True
        self._header_bytes = 0
        self._deadline = self.loop.time() + HEADER_TIMEOUT_SECONDS

    def _check_deadline(self) -> None:
        self._watch = None
        if self.transport.is_closing():
            return
        if self._reading_headers and self.loop.time() >= self._deadline:
            if self._header_bytes == 0:
                self.transport.close()  # nothing sent: an idle (perhaps speculative) connection, closed quietly
            else:
                self._refuse(TOO_SLOW)
            return
        next_check = self._deadline if self._reading_headers else self.loop.time() + HEADER_TIMEOUT_SECONDS
        self._watch = self.loop.call_at(next_check, self._check_deadline)

    def _refuse(self, answer: bytes) -> None:
        self.transport.write(answer)
        self.transport.close()
