"""The OpenAPI document, made to say what the server really answers.

FastAPI documents a 422 for every body; authgate answers 400 problems (http/problems.py). And a
route's own `responses=` lists only what its code refuses, while much is refused before or
around it. So each operation's problem answers are gathered from where they arise:

- every operation: 400 (the path, a field, the body) and 503 (a dependency does not answer);
- every method that takes a body: 413 (too large) and 415 (not JSON);
- its dependencies: a dependency names its refusals in a `problem_statuses` attribute (the
  caller's token: 401 and 403; a capability: 403; a rate limit: 429);
- the route's own `responses=`.

Each of them gets the `Problem` schema (RFC 9457, with `code` and field `errors`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts

BODYLESS = {"get", "head", "options"}
DESCRIPTIONS = {
    400: "The request is not valid: a field, the JSON body or the path (`validation_failed`), or a token, code or "
    "link that is not (`invalid_token`, `invalid_mfa_code`, `captcha_failed`, ...).",
    401: "Not authenticated: no, a wrong or an expired credential, or a second factor is needed (`mfa_required`).",
    403: "Authenticated but not allowed: a missing capability, a disabled account, an unverified address, or a "
    "cookie request from an origin that is not trusted.",
    404: "Not found.",
    409: "Conflicts with what exists (an address or name already taken, a role in use, the last way to sign in).",
    413: "The body is larger than `AUTHGATE_MAX_BODY_BYTES`.",
    415: "The body is not JSON.",
    429: "Too many requests or failed attempts (`rate_limited`, `account_locked`); `Retry-After` says when to retry.",
    502: "The sign-in provider does not answer or answers wrongly.",
    503: "A service this request needs (the database, Redis) does not answer; retry after `Retry-After`.",
}
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An RFC 9457 problem document. `code` is stable; `errors` names the fields at fault.",
    "type": "object",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}
Dependency = TypeVar("Dependency", bound=Callable[..., Any])
PROBLEM_CONTENT = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


def problem_statuses(*statuses: int) -> Callable[[Dependency], Dependency]:
    """Marks a dependency with the problem statuses it can answer."""

    def mark(dependency: Dependency) -> Dependency:
        dependency.problem_statuses = statuses  # type: ignore[attr-defined]
        return dependency

    return mark


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """A route's own refusals, for its `responses=`: `problems(401, 403)`."""
    return {status: {} for status in statuses}


def pages(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Answers that are an HTML page when the client asks for one (`Accept: text/html`)."""
    return {status: {"content": {"text/html": {"schema": {"type": "string"}}}} for status in statuses}


SIGN_IN = problems(401, 403)  # the sign-in gate: mfa_required, a wrong secret; disabled, unverified


def _dependencies(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _dependencies(sub)


def _statuses(route: RouteContext, method: str) -> set[int]:
    found = {400, 503}
    if method not in BODYLESS:
        found |= {413, 415}
    for call in _dependencies(route.dependant):
        found.update(getattr(call, "problem_statuses", ()))
    return found


def document(app: FastAPI) -> dict[str, Any]:
    """The document for `app`, built once and kept."""
    if app.openapi_schema is not None:
        return app.openapi_schema
    doc = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas["Problem"] = PROBLEM_SCHEMA
    for route in iter_route_contexts(app.routes):  # included routers are flattened as FastAPI does
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        for method in route.methods or ():
            operation = doc["paths"][route.path_format][method.lower()]
            responses: dict[str, Any] = operation["responses"]
            responses.pop("422", None)
            for status in _statuses(route, method.lower()) | {int(s) for s in responses if s.isdigit()}:
                if status >= 400:
                    answer = responses.setdefault(str(status), {})
                    answer["description"] = DESCRIPTIONS.get(status, answer.get("description") or "Refused.")
                    answer["content"] = {**PROBLEM_CONTENT, **answer.get("content", {})}
            operation["responses"] = dict(sorted(responses.items()))
    app.openapi_schema = doc
    return doc
