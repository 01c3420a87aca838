"""Small services of the kind that use authgate.client, built per test and called over
httpx's ASGI transport."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import Depends, FastAPI
from starlette.types import ASGIApp

from authgate.client import (
    AuthgateError,
    Claims,
    TokenVerifier,
    problem_response,
    require_authenticated,
    require_caps,
    require_role,
)


def fastapi_service(verifier: TokenVerifier, *, problems: bool = True) -> FastAPI:
    """Routes behind each dependency; `problems` installs the one-line problem handler."""
    app = FastAPI()
    if problems:
        app.add_exception_handler(AuthgateError, problem_response)

    @app.get("/api/profile")
    async def profile(claims: Claims = Depends(require_authenticated(verifier))) -> dict[str, Any]:
        return {"id": claims["sub"], "email": claims["email"], "caps": claims["caps"]}

    @app.delete("/api/things/{thing_id}")
    async def delete_thing(
        thing_id: str, claims: Claims = Depends(require_caps(verifier, "things:write"))
    ) -> dict[str, str]:
        return {"deleted": thing_id, "by": claims.sub}

    @app.get("/api/users")
    async def users(claims: Claims = Depends(require_caps(verifier, "users:read"))) -> dict[str, str]:
        return {"by": claims.sub}

    @app.get("/api/admin")
    async def admin(claims: Claims = Depends(require_role(verifier, "admin", "owner"))) -> dict[str, str | None]:
        return {"role": claims.role}

    return app


@asynccontextmanager
async def calling(app: ASGIApp) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://service.test") as client:
        yield client


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """`response` is authgate's problem document for `code`, with RFC 6750's challenge."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["code"] == code and body["status"] == status
    assert body["type"] == "https://authgate.dev/problems/" + code.replace("_", "-")
    assert body["title"] and body["detail"]
    if status == 401:
        assert response.headers["www-authenticate"].startswith('Bearer realm="authgate"')
    if status == 403:
        assert 'error="insufficient_scope"' in response.headers["www-authenticate"]
    return body
