"""Pure ASGI middleware (no BaseHTTPMiddleware: it costs a task per request).

`PathGuard` refuses a path with control characters (a `%00` in an id would reach the database).
`BodyGuard` refuses oversized and non-JSON bodies before any route, parser or hash sees them.
`RequestMetrics` counts requests and latencies by route template.
`PrefixAliases` serves every route prefix from one set of routes.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson

from authgate.observability.metrics import Metrics
from authgate.security.text import has_control_characters

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

BODYLESS = {"GET", "HEAD", "OPTIONS"}
COUNTED_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"
FORM_TYPES = (b"application/x-www-form-urlencoded", b"multipart/form-data")


async def send_problem(send: Send, status: int, code: str, title: str, detail: str) -> None:
    body = orjson.dumps(
        {
            "type": f"https://authgate.dev/problems/{code.replace('_', '-')}",
            "title": title,
            "status": status,
            "detail": detail,
            "code": code,
        }
    )
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _is_json(content_type: bytes) -> bool:
    media = content_type.split(b";", 1)[0].strip().lower()
    return media == b"application/json" or (media.startswith(b"application/") and media.endswith(b"+json"))


def _path_matches(path: str, pattern: str) -> bool:
    """Does `path` end with `pattern`, where a `*` segment stands for any one non-empty segment?"""
    if "*" not in pattern:
        return path.endswith(pattern)
    want = pattern.strip("/").split("/")
    have = path.strip("/").split("/")
    if len(have) < len(want):
        return False
    return all(h != "" if w == "*" else h == w for w, h in zip(want, have[len(have) - len(want) :], strict=True))


class PathGuard:
    """No route takes control characters in its path, and PostgreSQL refuses a NUL byte as a
    query parameter: a decoded path holding one is a 400 before any route sees it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and has_control_characters(scope["path"]):
            await send_problem(
                send, 400, "validation_failed", "Validation failed", "The path contains control characters."
            )
            return
        await self.app(scope, receive, send)


class BodyGuard:
    """Buffers the (small) body, refusing > max_bytes with 413 and non-JSON with 415.

    `form_paths` lists path suffixes that may also take an HTML form post; a `*` segment
    matches any one path segment (e.g. `/password/reset/*`, whose last segment is a token).
    """

    def __init__(self, app: ASGIApp, max_bytes: int, form_paths: tuple[str, ...] = ()) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.form_paths = form_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in BODYLESS:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            await send_problem(
                send, 413, "payload_too_large", "Payload too large", f"The body must be at most {self.max_bytes} bytes."
            )
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await send_problem(
                    send,
                    413,
                    "payload_too_large",
                    "Payload too large",
                    f"The body must be at most {self.max_bytes} bytes.",
                )
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        content_type = headers.get(b"content-type", b"")
        if body and not _is_json(content_type):
            allowed_form = content_type.split(b";", 1)[0].strip().lower() in FORM_TYPES and any(
                _path_matches(scope["path"], p) for p in self.form_paths
            )
            if not allowed_form:
                await send_problem(
                    send, 415, "unsupported_media_type", "Unsupported media type", "Send the body as application/json."
                )
                return

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


class RequestMetrics:
    """Counts every request by its route template (`/sessions/{session_id}`), never its raw
    path, and by method among the standard ones: a client choosing paths or methods must not
    be able to add series without end. A request no route matched (a 404, or one a guard
    refused before routing) counts as `unmatched`. It sees the route because `PrefixAliases`
    hands it back. At lifespan shutdown it tells the metrics that this worker stopped."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, self._on_lifespan(send))
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            template = getattr(scope.get("route"), "path", None) or UNMATCHED
            method = scope["method"] if scope["method"] in COUNTED_METHODS else "other"
            self.metrics.requests.labels(template, method, str(status)).inc()
            self.metrics.latency.labels(template, method).observe(time.perf_counter() - started)

    def _on_lifespan(self, send: Send) -> Send:
        async def send_wrapper(message: Message) -> None:
            if message["type"] == "lifespan.shutdown.complete":
                self.metrics.worker_stopped()
            await send(message)

        return send_wrapper


class PrefixAliases:
    """Serves the routes registered under the first prefix at every other prefix too.

    Registering each router once per prefix would quadruple the route table, and Starlette
    matches routes one by one: a request for a route late in the table paid for every regex
    before it (half the hello-world throughput). Instead the other prefixes are rewritten to
    the first before routing, in a copy of the scope; the original path is kept in the copy's
    `scope["authgate.path"]`, and the route the router matched is handed back to the original.
    """

    def __init__(self, app: ASGIApp, primary: str, aliases: list[str]) -> None:
        self.app = app
        self.primary = primary
        # Longest first, so "/api/v1/auth" wins over "/api" if both are configured.
        self.aliases = sorted((a for a in aliases if a != primary), key=len, reverse=True)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            for alias in self.aliases:
                if path.startswith(alias) and (len(path) == len(alias) or path[len(alias)] == "/"):
                    rest = path[len(alias) :] or "/"
                    routed = {**scope, "path": self.primary + rest, "authgate.path": path}
                    try:
                        await self.app(routed, receive, send)
                    finally:
                        if "route" in routed:  # for RequestMetrics, outside: it labels by route
                            scope["route"] = routed["route"]
                    return
        await self.app(scope, receive, send)
