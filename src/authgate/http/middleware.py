"""Pure ASGI middleware (no BaseHTTPMiddleware: it costs a task per request).

`PathGuard` refuses a path with control characters (a `%00` in an id would reach the database).
`BodyGuard` refuses oversized, non-JSON and ambiguous JSON bodies before any route, parser or
hash sees them.
`SecurityHeaders` puts the headers every answer needs (no caching, no sniffing, HSTS).
`RequestMetrics` counts requests and latencies by route template.
`Unexpected` answers any other exception with a bare 500 problem, and logs it without secrets.
`PrefixAliases` serves every route prefix from one set of routes.
"""

from __future__ import annotations

import json
import os
import time
import traceback
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson

from authgate.http.problems import problem_document
from authgate.observability.logging import get_logger
from authgate.observability.metrics import Metrics
from authgate.runtime.outages import database_error_type
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


async def send_problem(
    send: Send, status: int, code: str, title: str, detail: str, errors: list[dict[str, str]] | None = None
) -> None:
    body = orjson.dumps(problem_document(status, code, title, detail, errors))
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


class DuplicateKey(ValueError):
    pass


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise DuplicateKey(key)
            seen.add(key)
    return found


def json_ambiguity(body: bytes) -> str | None:
    """Why a JSON body that parses cannot be taken as meant, or None. A key given twice is
    read differently by different parsers (Python keeps the last, others the first), so a
    check on one copy and a use of the other could disagree; nesting deeper than the parser's
    recursion limit would be an error deep inside it. Bodies that do not parse at all are left
    to the route's own parser, which names the position."""
    try:
        json.loads(body, object_pairs_hook=_refuse_duplicates)
    except DuplicateKey as exc:
        return f"The key {json.dumps(str(exc))} appears more than once."
    except RecursionError:
        return "The body is nested too deeply."
    except ValueError:
        return None
    return None


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
    """Buffers the (small) body, refusing > max_bytes with 413, non-JSON with 415, and JSON
    with a repeated key or too deep a nesting with 400 (`json_ambiguity`).

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
        if body and _is_json(content_type) and (reason := json_ambiguity(body)) is not None:
            await send_problem(
                send,
                400,
                "validation_failed",
                "Validation failed",
                "The request has invalid fields.",
                [{"field": "body", "message": reason}],
            )
            return
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


class SecurityHeaders:
    """Headers every answer carries. `Cache-Control: no-store` unless the route chose its own
    (the JWKS is public and cacheable): nearly every answer holds a token, a secret or a user's
    data, and a shared cache or a browser's back button must keep none of them.
    `X-Content-Type-Options: nosniff`, so no answer is read as anything but its declared type.
    `Strict-Transport-Security` when cookies are `Secure`, that is when the service is reached
    over HTTPS: a browser then never tries plain HTTP, where a cookie could be stripped."""

    def __init__(self, app: ASGIApp, hsts: bool) -> None:
        self.app = app
        self.always: list[tuple[bytes, bytes]] = [(b"x-content-type-options", b"nosniff")]
        if hsts:
            self.always.append((b"strict-transport-security", b"max-age=31536000"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                names = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in self.always if name not in names]
                if b"cache-control" not in names:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


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


def first_segment(path: str) -> str:
    """`/docs` for `/docs/swagger-ui.css`."""
    return "/" + path.split("/", 2)[1] if path.startswith("/") else path


def _raised_in(exc: BaseException) -> str:
    """The innermost frame of our own code the exception passed through (`module:line`)."""
    marker = f"{os.sep}authgate{os.sep}"
    ours = [frame for frame in traceback.extract_tb(exc.__traceback__) if marker in frame.filename]
    return f"{ours[-1].filename.rsplit(marker, 1)[-1]}:{ours[-1].lineno}" if ours else "unknown"


class Unexpected:
    """The last net, outermost: an exception no handler took is a bug. The client gets a 500
    problem with no detail; the log gets one line. The exception goes no further, so the
    server does not print it again: a database error's text holds the statement and often the
    values it was given (a unique violation names the key's value), so it is logged by its
    classes and the line of our code it came through, without the traceback; any other
    exception with its traceback."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.log = get_logger("authgate.http")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            path = scope.get("authgate.path", scope["path"])
            if (db_error := database_error_type(exc)) is not None:
                self.log.error("unhandled_error", path=path, error_type=db_error, raised_in=_raised_in(exc))
            else:
                self.log.error("unhandled_error", path=path, error_type=type(exc).__name__, exc_info=exc)
            if not started:
                await send_problem(send, 500, "internal_error", "Internal error", "Something went wrong on our side.")


class PrefixAliases:
    """Serves the routes registered under the first prefix at every other prefix too.

    Registering each router once per prefix would quadruple the route table, and Starlette
    matches routes one by one: a request for a route late in the table paid for every regex
    before it (half the hello-world throughput). Instead the other prefixes are rewritten to
    the first before routing, in a copy of the scope; the original path is kept in the copy's
    `scope["authgate.path"]`, and the route the router matched is handed back to the original.

    `root_only` are the first segments of the paths served at the root and nowhere else
    (health, metrics, the API docs): with the empty prefix first, `/auth/metrics` would otherwise become `/metrics`, and
    a proxy that exposes only `/auth/` would expose them too.
    """

    def __init__(self, app: ASGIApp, primary: str, aliases: list[str], root_only: frozenset[str]) -> None:
        self.app = app
        self.primary = primary
        self.root_only = root_only
        # Longest first, so "/api/v1/auth" wins over "/api" if both are configured.
        self.aliases = sorted((a for a in aliases if a != primary), key=len, reverse=True)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            for alias in self.aliases:
                if path.startswith(alias) and (len(path) == len(alias) or path[len(alias)] == "/"):
                    rest = path[len(alias) :] or "/"
                    if first_segment(rest) in self.root_only:
                        break
                    routed = {**scope, "path": self.primary + rest, "authgate.path": path}
                    try:
                        await self.app(routed, receive, send)
                    finally:
                        if "route" in routed:  # for RequestMetrics, outside: it labels by route
                            scope["route"] = routed["route"]
                    return
        await self.app(scope, receive, send)
