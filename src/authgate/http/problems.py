"""Every error leaves as an RFC 9457 problem document with a stable `code`.

Causes stay in the log; a response never carries a stack trace or an exception's text.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import RedirectResponse
from starlette.routing import compile_path

from authgate.errors import AuthError, ErrorCode, temporarily_unavailable
from authgate.observability.logging import get_logger
from authgate.runtime.outages import OutageLog, candidates, unavailable_part
from authgate.settings import Settings

PROBLEM_JSON = "application/problem+json"
log = get_logger("authgate.http")


def problem_document(
    status: int, code: str, title: str, detail: str | None = None, errors: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    """The RFC 9457 body every refusal carries, wherever it is written."""
    body: dict[str, Any] = {
        "type": f"https://authgate.dev/problems/{code.replace('_', '-')}",
        "title": title,
        "status": status,
        "detail": detail or title,
        "code": code,
    }
    if errors:
        body["errors"] = errors
    return body


def problem_response(
    status: int,
    code: str,
    title: str,
    detail: str | None = None,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = problem_document(status, code, title, detail, errors)
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def from_auth_error(exc: AuthError) -> JSONResponse:
    return problem_response(
        exc.status,
        exc.code.value,
        exc.title,
        exc.detail,
        [{"field": e.field, "message": e.message} for e in exc.errors] or None,
        headers=exc.headers or None,
        **exc.extra,
    )


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or "body"


def _message(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    if kind == "json_invalid":
        return "The body is not valid JSON."
    if kind == "missing":
        return "This field is required."
    if kind in {"model_attributes_type", "dict_type"} and _field_name(tuple(error.get("loc", ()))) == "body":
        return "The body must be a JSON object."
    return str(error.get("msg", "Invalid value."))


async def _on_validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
    seen: dict[str, str] = {}
    for error in exc.errors():
        seen.setdefault(_field_name(tuple(error.get("loc", ()))), _message(error))
    return problem_response(
        400,
        ErrorCode.VALIDATION_FAILED.value,
        "Validation failed",
        "The request has invalid fields.",
        [{"field": f, "message": m} for f, m in seen.items()],
    )


async def _on_auth_error(_request: Request, exc: AuthError) -> JSONResponse:
    return from_auth_error(exc)


STATUS_CODES = {
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    413: ErrorCode.PAYLOAD_TOO_LARGE,
    415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
}


def _methods_at(request: Request, path: str) -> set[str]:
    """Every method some route takes at `path` (Starlette's 405 names only the first route's,
    and /token/refresh, say, is two routes: POST and GET)."""
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.router.routes):
        if route.methods and route.path and compile_path(route.path)[0].match(path):
            methods |= route.methods
    return methods


def _served_without_slash(request: Request) -> str | None:
    """Where a path that ends in a slash is served without it: a relative reference (the
    path as the client sent it, and its query), never a URL built from the `Host` header,
    which the client chooses. None if no route takes the path without its slash."""
    path: str = request.scope["path"]
    sent: str = request.scope.get("authgate.path", path)
    if not path.endswith("/") or path == "/" or sent.startswith("//") or not _methods_at(request, path.rstrip("/")):
        return None
    query = request.scope.get("query_string", b"").decode("latin-1")
    return sent.rstrip("/") + (f"?{query}" if query else "")


async def _on_http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse | RedirectResponse:
    if exc.status_code == 404 and (location := _served_without_slash(request)) is not None:
        return RedirectResponse(location, status_code=307)
    if exc.status_code == 405:
        exc.headers = {**(exc.headers or {}), "Allow": ", ".join(sorted(_methods_at(request, request.scope["path"])))}
    fallback = ErrorCode.VALIDATION_FAILED if exc.status_code < 500 else ErrorCode.INTERNAL_ERROR
    code = STATUS_CODES.get(exc.status_code, fallback)
    title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "Request refused")
    return problem_response(exc.status_code, code.value, title, headers=dict(exc.headers or {}) or None)


def _on_unavailable(outages: OutageLog) -> Callable[[Request, Exception], Awaitable[JSONResponse]]:
    async def handle(request: Request, exc: Exception) -> JSONResponse:
        part = unavailable_part(exc)
        if part is None:
            raise exc  # not an outage: a bug, answered 500 by the edge (http/middleware.py)
        outages.refused(part=part, error_type=type(exc).__name__, path=request.url.path)
        return from_auth_error(
            temporarily_unavailable("A service this request needs does not answer. Try again in a few seconds.")
        )

    return handle


def install(app: FastAPI, settings: Settings) -> None:
    app.router.redirect_slashes = False  # Starlette's redirect names the Host header: _served_without_slash
    app.add_exception_handler(AuthError, _on_auth_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _on_validation)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _on_http_error)  # type: ignore[arg-type]
    # Handled here rather than as a 500: the server logs no traceback for an answered request.
    on_unavailable = _on_unavailable(OutageLog())
    for candidate in candidates(settings):
        app.add_exception_handler(candidate, on_unavailable)
