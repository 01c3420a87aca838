"""AuthgateMiddleware on a plain Starlette app (tokens from a real authgate), WebSockets, and
FastAPI dependencies reusing the claims the middleware verified."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import jwt
from fastapi import Depends, FastAPI
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from authgate.client import AuthgateMiddleware, Claims, TokenVerifier, require_authenticated, require_caps
from tests.support.app import TEST_SECRET
from tests.support.client_service import assert_problem, calling
from tests.support.client_stub import CLIENT_ID, CLIENT_SECRET, INTROSPECT_PATH, AuthgateStub, access_claims
from tests.support.http import admin_token, bearer, register


async def me(request: Request) -> JSONResponse:
    claims: Claims = request.state.authgate_claims
    return JSONResponse({"id": claims.sub, "role": claims.role, "email": claims["email"]})


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok", "claims": "authgate_claims" in request.scope.get("state", {})})


async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_json({"id": websocket.state.authgate_claims.sub})
    await websocket.close()


def starlette_service(verifier: TokenVerifier) -> Starlette:
    routes = [
        Route("/me", me),
        Route("/healthz", health),
        Route("/public/info", health),
        Route("/publicity", health),
        WebSocketRoute("/ws", echo),
    ]
    guard = Middleware(AuthgateMiddleware, verifier=verifier, public_paths={"/healthz"}, public_prefixes=("/public/",))
    return Starlette(routes=routes, middleware=[guard])


async def test_starlette_app_behind_the_middleware(client: httpx.AsyncClient) -> None:
    registered = (await register(client)).json()
    token = registered["token"]
    async with TokenVerifier(secret=TEST_SECRET) as verifier, calling(starlette_service(verifier)) as service:
        response = await service.get("/me", headers=bearer(token))
        assert response.status_code == 200, response.text
        assert response.json() == {"id": registered["user"]["id"], "role": "user", "email": "ada@example.com"}

        # Refusals are problem documents with no setup at all.
        missing = assert_problem(await service.get("/me"), 401, "invalid_token")
        assert missing["detail"] == "Authentication is required."
        assert_problem(await service.get("/me", headers=bearer(token[:-4] + "AAAA")), 401, "invalid_token")
        claims = jwt.decode(token, options={"verify_signature": False})
        expired = jwt.encode({**claims, "exp": claims["iat"] - 1}, TEST_SECRET, algorithm="HS256")
        assert_problem(await service.get("/me", headers=bearer(expired)), 401, "token_expired")
        assert_problem(await service.get("/nowhere"), 401, "invalid_token")  # refused before routing

        # Public paths pass without a token, and no claims are made up for them.
        assert (await service.get("/healthz")).json() == {"status": "ok", "claims": False}
        assert (await service.get("/public/info")).json() == {"status": "ok", "claims": False}
        assert_problem(await service.get("/publicity"), 401, "invalid_token")
        assert_problem(await service.get("/healthz/"), 401, "invalid_token")


async def asgi_exchange(app: Any, scope: dict[str, Any], incoming: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Run one ASGI connection: `incoming` are the messages the server would deliver; returns
    what the app sent."""
    queue = list(incoming)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return queue.pop(0) if queue else {"type": "websocket.disconnect", "code": 1000}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


def websocket_scope(headers: dict[str, str]) -> dict[str, Any]:
    return {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "scheme": "ws",
        "path": "/ws",
        "raw_path": b"/ws",
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "server": ("service.test", 80),
        "client": ("203.0.113.9", 4000),
        "subprotocols": [],
    }


async def test_websocket_needs_a_token() -> None:
    token = jwt.encode(access_claims(sub="ws-user"), TEST_SECRET, algorithm="HS256")
    app = starlette_service(TokenVerifier(secret=TEST_SECRET))
    sent = await asgi_exchange(app, websocket_scope(bearer(token)), [{"type": "websocket.connect"}])
    assert [m["type"] for m in sent] == ["websocket.accept", "websocket.send", "websocket.close"]
    assert sent[1]["text"] == '{"id":"ws-user"}'
    for headers in ({}, bearer("junk")):
        sent = await asgi_exchange(app, websocket_scope(headers), [{"type": "websocket.connect"}])
        assert sent == [{"type": "websocket.close", "code": 1008, "reason": "invalid_token"}]


async def test_lifespan_passes_through() -> None:
    events: list[str] = []

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        events.append("started")
        yield
        events.append("stopped")

    guard = Middleware(AuthgateMiddleware, verifier=TokenVerifier(secret=TEST_SECRET))
    app = Starlette(lifespan=lifespan, middleware=[guard])
    sent = await asgi_exchange(
        app,
        {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}},
        [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}],
    )
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert events == ["started", "stopped"]


async def test_dependencies_reuse_what_the_middleware_verified(
    client: httpx.AsyncClient, authgate_stub: AuthgateStub
) -> None:
    """With introspection uncached, every verification is one call to authgate: a request that
    passes the middleware, a router dependency and a route dependency makes exactly one."""
    admin = await admin_token(client)
    authgate_stub.active.add(admin)
    verifier = TokenVerifier(
        secret=TEST_SECRET,
        introspection_url=authgate_stub.introspect_url,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        introspection_cache_seconds=0,
    )
    app = FastAPI(dependencies=[Depends(require_authenticated(verifier))])
    app.add_middleware(AuthgateMiddleware, verifier=verifier, public_paths=["/openapi.json"])

    @app.get("/api/things")
    async def things(claims: Claims = Depends(require_caps(verifier, "things:read"))) -> dict[str, str]:
        return {"by": claims.sub}

    async with verifier, calling(app) as service:
        for _ in range(3):
            assert (await service.get("/api/things", headers=bearer(admin))).status_code == 200
        assert authgate_stub.hits[INTROSPECT_PATH] == 3
        schema = (await service.get("/openapi.json")).json()
        assert schema["components"]["securitySchemes"]["authgate"] == {
            "type": "http",
            "scheme": "bearer",
            "description": "An access token issued by authgate.",
        }
        assert schema["paths"]["/api/things"]["get"]["security"] == [{"authgate": []}]
