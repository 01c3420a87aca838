"""Health, readiness, metrics, OpenAPI, and route prefixes."""

from __future__ import annotations

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI

from authgate.app import _serve
from tests.support.databases import REDIS_URL
from tests.support.http import STRONG_PASSWORD, register
from tests.support.metrics import metrics_text
from tests.support.server import free_port
from tests.support.skip import skip_or_fail


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


async def test_readyz_when_the_database_answers(client: httpx.AsyncClient) -> None:
    assert (await client.get("/readyz")).status_code == 200


async def test_readyz_is_503_when_the_database_does_not_answer(make_client) -> None:  # type: ignore[no-untyped-def]
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/nothing-listens-here"
    async with make_client(database_url=url) as c:
        response = await c.get("/readyz")
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        assert (await c.get("/healthz")).status_code == 200


async def test_readyz_checks_redis_when_configured(make_client) -> None:  # type: ignore[no-untyped-def]
    async with make_client(redis_url=f"redis://127.0.0.1:{free_port()}/0") as down:
        response = await down.get("/readyz")
        assert response.status_code == 503 and "Redis" in response.json()["detail"]
    try:
        import redis.asyncio as aioredis

        probe = aioredis.Redis.from_url(REDIS_URL, socket_timeout=2)
        await probe.ping()
        await probe.aclose()
    except Exception as exc:
        skip_or_fail(f"Redis not reachable at {REDIS_URL}: {type(exc).__name__}")
    async with make_client(redis_url=REDIS_URL) as up:
        assert (await up.get("/readyz")).status_code == 200


async def test_metrics_count_requests_logins_and_hash_time(client: httpx.AsyncClient) -> None:
    await register(client, "m@example.com")
    await client.post("/login", json={"email": "m@example.com", "password": STRONG_PASSWORD})
    await client.post("/login", json={"email": "m@example.com", "password": "Wrong-Pass-1"})
    text = await metrics_text(client)
    assert 'authgate_http_requests_total{method="POST",route="/login",status="200"} 1.0' in text
    assert 'authgate_logins_total{outcome="success"} 2.0' in text  # register passes the same gate
    assert 'authgate_logins_total{outcome="invalid_credentials"} 1.0' in text
    assert 'authgate_password_hash_seconds_count{op="hash",scheme="bcrypt-hmac-sha256"}' in text
    assert "authgate_http_request_duration_seconds_bucket" in text


async def test_openapi_documents_the_first_prefix(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert "/login" in spec["paths"] and "/register" in spec["paths"]
    assert "/api/auth/login" not in spec["paths"]
    docs = await client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


async def test_custom_route_prefixes(make_client) -> None:  # type: ignore[no-untyped-def]
    async with make_client(route_prefixes=["/identity"]) as c:
        assert (
            await c.post("/identity/register", json={"email": "p@example.com", "password": STRONG_PASSWORD})
        ).status_code == 201
        assert (
            await c.post("/api/auth/register", json={"email": "q@example.com", "password": STRONG_PASSWORD})
        ).status_code == 404
        assert "/identity/login" in (await c.get("/openapi.json")).json()["paths"]


def test_a_router_with_its_own_dependencies_is_not_merged_into_the_apps_routes() -> None:
    """Routes under no prefix join the app's own list (app._serve); a router whose dependencies
    or lifespan handlers only an include would apply is refused, not served without them."""

    def guard() -> None:
        return None

    guarded = APIRouter(dependencies=[Depends(guard)])
    guarded.add_api_route("/guarded", guard)
    with pytest.raises(RuntimeError):
        _serve(FastAPI(), guarded, prefix="")
    plain = APIRouter()
    plain.add_api_route("/plain", guard)
    app = FastAPI()
    _serve(app, plain, prefix="")
    assert [getattr(route, "path", None) for route in app.routes][-1] == "/plain"
