"""The edge: one pure-ASGI layer that every request passes before routing, and on its way out.

Each ASGI layer costs a call per message and a wrapper per request, and the work at the edge
is small, so it is done in one place, in this order:

1. CORS: a preflight is answered here (http/cors.py decides), before any guard.
2. Route prefixes: every prefix is served by one set of routes (`_routed`).
3. The path: control characters are a 400 (a `%00` in an id would reach the database).
4. The body: buffered, and refused over `max_bytes` (413), when not JSON (415, except a form
   on the form paths, and anything under the pages' prefix, whose routes answer a wrong type with
   their own 415 page), and when JSON is ambiguous (400, `json_ambiguity`), before any parser
   or hash.
5. The request scope: the caller's address and User-Agent, held for the request (scope.py).

And on the way out, on every answer: the security headers, CORS headers for a listed origin,
the request counted by route template, and the last net: an exception no handler took is
answered with a bare 500 problem and logged without secrets.
"""

from __future__ import annotations

import json
import os
import time
import traceback
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson
from starlette.requests import HTTPConnection

from authgate.http.cors import CrossOrigin
from authgate.http.problems import problem_document
from authgate.http.request_scope import context_of
from authgate.observability.logging import get_logger
from authgate.observability.metrics import Metrics
from authgate.runtime.outages import database_error_type
from authgate.scope import entered
from authgate.security.text import has_control_characters

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

BODYLESS = {"GET", "HEAD", "OPTIONS"}
COUNTED_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"
FORM_TYPE = b"application/x-www-form-urlencoded"  # the only form bodies taken (no multipart)


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


def first_segment(path: str) -> str:
    """`/docs` for `/docs/swagger-ui.css`."""
    return "/" + path.split("/", 2)[1] if path.startswith("/") else path


def _raised_in(exc: BaseException) -> str:
    """The innermost frame of our own code the exception passed through (`module:line`)."""
    marker = f"{os.sep}authgate{os.sep}"
    ours = [frame for frame in traceback.extract_tb(exc.__traceback__) if marker in frame.filename]
    return f"{ours[-1].filename.rsplit(marker, 1)[-1]}:{ours[-1].lineno}" if ours else "unknown"


class Edge:
    """See the module docstring.

    Route prefixes: registering each router once per prefix would quadruple the route table,
    and Starlette matches routes one by one (a route late in the table paid for every regex
    before it). Instead the other prefixes are rewritten to the first before routing, in a
    copy of the scope that keeps the original path in `scope["authgate.path"]`. `root_only`
    are the first segments of the paths served at the root and nowhere else (health, metrics,
    the API docs): `/auth/metrics` must not become `/metrics`, or a proxy that exposes only
    `/auth/` would expose them too. A whole path there (the OpenID provider's `/oauth2/token`)
    is root-only while its siblings (`/oauth2/clients`) are served under every prefix.

    Security headers: `Cache-Control: no-store` unless the route chose its own (the JWKS is
    public and cacheable), since nearly every answer holds a token, a secret or a user's data;
    `X-Content-Type-Options: nosniff`; `Strict-Transport-Security` when cookies are `Secure`,
    that is when the service is reached over HTTPS.

    Metrics: every request is counted by its route template (`/sessions/{session_id}`), never
    its raw path, and by method among the standard ones, so a client choosing paths or methods
    cannot add series without end; a request no route matched counts as `unmatched`.

    The last net: a database error's text holds the statement and often its values, so it is
    logged by its classes and the line of our code it came through, without the traceback;
    any other exception with its traceback. It goes no further, so the server does not print
    it again.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: Metrics,
        hsts: bool,
        primary: str,
        aliases: list[str],
        root_only: frozenset[str],
        max_body_bytes: int,
        form_paths: tuple[str, ...],
        trusted_proxies: list[str],
        form_prefixes: tuple[str, ...] = (),
        cors: CrossOrigin | None = None,
        larger_bodies: tuple[tuple[str, int], ...] = (),
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.always: list[tuple[bytes, bytes]] = [(b"x-content-type-options", b"nosniff")]
        if hsts:
            self.always.append((b"strict-transport-security", b"max-age=31536000"))
        self.primary = primary
        self.root_only = root_only
        # Longest first, so "/api/v1/auth" wins over "/api" if both are configured.
        self.aliases = sorted((a for a in aliases if a != primary), key=len, reverse=True)
        self.max_bytes = max_body_bytes
        # (path pattern, multiple of the limit): the few routes that take more (an import's rows)
        self.larger = tuple((pattern, max_body_bytes * multiple) for pattern, multiple in larger_bodies)
        self.form_paths = form_paths
        # The hosted pages: they read every body under these themselves (a form, else their 415
        # page), and while they are off the router's 404 answers whatever was sent.
        self.form_prefixes = form_prefixes
        self.trusted = trusted_proxies
        self.cors = cors
        self.log = get_logger("authgate.http")
        self._series: dict[tuple[str, str, int], tuple[Any, Any]] = {}  # labelled metrics, made once

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, self._on_lifespan(send) if scope["type"] == "lifespan" else send)
            return
        started = time.perf_counter()
        status = 500
        answered = False
        preflight = self.cors is not None and self.cors.is_preflight(scope)
        # A preflight's answer carries its own CORS headers (none when refused); every other
        # answer to a listed origin gets those that let its app read it.
        listed = self.cors.listed_origin(scope) if self.cors is not None else None
        decorate = self.cors is not None and not preflight

        async def reply(message: Message) -> None:
            nonlocal status, answered
            if message["type"] == "http.response.start":
                status = message["status"]
                answered = True
                message["headers"] = self._headers(message.get("headers", ()), listed, decorate)
            await send(message)

        routed = scope
        try:
            if preflight and self.cors is not None:
                await self.cors.answer_preflight(scope, receive, reply, listed)
                return
            routed = self._routed(scope)
            if has_control_characters(routed["path"]):
                await send_problem(
                    reply, 400, "validation_failed", "Validation failed", "The path contains control characters."
                )
                return
            if routed["method"] not in BODYLESS:
                replay = await self._body(routed, receive, reply)
                if replay is None:
                    return
                receive = replay
            with entered(context_of(HTTPConnection(routed), self.trusted)):
                await self.app(routed, receive, reply)
        except Exception as exc:
            self._log_unexpected(scope, exc)
            if not answered:
                await send_problem(reply, 500, "internal_error", "Internal error", "Something went wrong on our side.")
        finally:
            self._count(routed, status, time.perf_counter() - started)

    def _routed(self, scope: Scope) -> Scope:
        path: str = scope["path"]
        for alias in self.aliases:
            if path.startswith(alias) and (len(path) == len(alias) or path[len(alias)] == "/"):
                rest = path[len(alias) :] or "/"
                if first_segment(rest) in self.root_only or rest in self.root_only:
                    break
                return {**scope, "path": self.primary + rest, "authgate.path": path}
        return scope

    def _headers(self, given: Any, listed: str | None, decorate: bool) -> list[tuple[bytes, bytes]]:
        headers = list(given)
        if decorate and self.cors is not None:
            self.cors.decorate(headers, listed)
        names = {name.lower() for name, _ in headers}
        headers += [(name, value) for name, value in self.always if name not in names]
        if b"cache-control" not in names:
            headers.append((b"cache-control", b"no-store"))
        return headers

    async def _body(self, scope: Scope, receive: Receive, send: Send) -> Receive | None:
        """The request's body, checked, as a `receive` that replays it; None once refused."""
        headers = dict(scope["headers"])
        length = headers.get(b"content-length")
        limit = next((size for pattern, size in self.larger if _path_matches(scope["path"], pattern)), self.max_bytes)
        too_large = f"The body must be at most {limit} bytes."
        if length is not None and (not length.isdigit() or int(length) > limit):
            await send_problem(send, 413, "payload_too_large", "Payload too large", too_large)
            return None
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await send_problem(send, 413, "payload_too_large", "Payload too large", too_large)
                return None
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
            return None
        path = scope["path"]
        if body and not _is_json(content_type) and not path.startswith(self.form_prefixes):
            allowed_form = content_type.split(b";", 1)[0].strip().lower() == FORM_TYPE and any(
                _path_matches(path, p) for p in self.form_paths
            )
            if not allowed_form:
                await send_problem(
                    send, 415, "unsupported_media_type", "Unsupported media type", "Send the body as application/json."
                )
                return None

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return replay

    def _count(self, scope: Scope, status: int, seconds: float) -> None:
        template = getattr(scope.get("route"), "path", None) or UNMATCHED
        method = scope["method"] if scope["method"] in COUNTED_METHODS else "other"
        key = (template, method, status)
        series = self._series.get(key)
        if series is None:  # bounded: route templates x methods x statuses
            series = (
                self.metrics.requests.labels(template, method, str(status)),
                self.metrics.latency.labels(template, method),
            )
            self._series[key] = series
        series[0].inc()
        series[1].observe(seconds)

    def _log_unexpected(self, scope: Scope, exc: Exception) -> None:
        path = scope.get("authgate.path", scope["path"])
        if (db_error := database_error_type(exc)) is not None:
            self.log.error("unhandled_error", path=path, error_type=db_error, raised_in=_raised_in(exc))
        else:
            self.log.error("unhandled_error", path=path, error_type=type(exc).__name__, exc_info=exc)

    def _on_lifespan(self, send: Send) -> Send:
        """At lifespan shutdown, the metrics learn that this worker stopped."""

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "lifespan.shutdown.complete":
                self.metrics.worker_stopped()
            await send(message)

        return send_wrapper
