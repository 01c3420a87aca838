"""CORS for the listed browser apps: preflights answered before any guard, credentialed answers
and problem documents readable by a listed origin, nothing at all for any other origin."""

from __future__ import annotations

import httpx
import pytest

from tests.support.app import ClientFactory
from tests.support.http import register

APP = "http://app.example.test:5173"
OTHER = "http://evil.example.test:5173"


def cors_headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.startswith("access-control-")}


def assert_readable_by_app(response: httpx.Response) -> None:
    assert response.headers["access-control-allow-origin"] == APP
    assert response.headers["access-control-allow-credentials"] == "true"
    assert "Retry-After" in response.headers["access-control-expose-headers"]
    assert "Origin" in response.headers["vary"]


def preflight(method: str, headers: str = "content-type", origin: str = APP) -> dict[str, str]:
    return {"Origin": origin, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": headers}


async def test_a_listed_origin_gets_its_preflight_answered(make_client: ClientFactory) -> None:
    async with make_client(cors_origins=["HTTP://App.Example.test:5173/"]) as client:
        # A path with a control character would be a 400 from the path guard: the preflight comes first.
        for path in ("/api/auth/login", "/auth/profile", "/api/auth/%00"):
            answer = await client.options(path, headers=preflight("POST", "content-type, authorization"))
            assert answer.status_code == 204, (path, answer.text)
            assert answer.headers["access-control-allow-origin"] == APP
            assert answer.headers["access-control-allow-credentials"] == "true"
            assert {"GET", "POST", "PUT", "DELETE"} <= set(answer.headers["access-control-allow-methods"].split(", "))
            allowed = answer.headers["access-control-allow-headers"].lower().split(", ")
            assert {"authorization", "content-type", "x-captcha-token"} <= set(allowed)
            assert int(answer.headers["access-control-max-age"]) > 0
            assert "Origin" in answer.headers["vary"]


@pytest.mark.parametrize(
    "headers",
    [
        preflight("POST", origin=OTHER),
        preflight("POST", origin="null"),
        preflight("POST", origin="http://app.example.test:5174"),
        preflight("POST", origin="https://app.example.test:5173"),
        preflight("PATCH"),
        preflight("POST", "content-type, x-not-read-by-the-api"),
    ],
)
async def test_any_other_preflight_is_refused_without_cors_headers(
    make_client: ClientFactory, headers: dict[str, str]
) -> None:
    async with make_client(cors_origins=[APP]) as client:
        answer = await client.options("/api/auth/login", headers=headers)
        assert answer.status_code == 403, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["code"] == "forbidden"
        assert cors_headers(answer) == {}


async def test_credentialed_answers_and_problems_are_readable_by_a_listed_origin(make_client: ClientFactory) -> None:
    async with make_client(cors_origins=[APP], rate_limits="login.ip=1/minute") as client:
        await register(client)
        origin = {"Origin": APP}
        login = await client.post("/login", json={"email": "ada@example.com", "password": "x" * 12}, headers=origin)
        assert login.status_code == 401 and login.headers["content-type"] == "application/problem+json"
        assert_readable_by_app(login)
        limited = await client.post("/login", json={"email": "ada@example.com", "password": "y" * 12}, headers=origin)
        assert limited.status_code == 429 and "retry-after" in limited.headers
        assert_readable_by_app(limited)
        client.cookies.clear()
        for answer, status in (
            (await client.get("/profile", headers=origin), 401),
            (await client.post("/register", json={}, headers=origin), 400),
            (await client.post("/register", content=b"x=1", headers={**origin, "Content-Type": "text/plain"}), 415),
            (await client.post("/register", content=b"{" * 70_000, headers=origin), 413),
            (await client.get("/api/auth/%01", headers=origin), 400),
            (await client.get("/no-such-route", headers=origin), 404),
        ):
            assert answer.status_code == status, answer.text
            assert answer.headers["content-type"] == "application/problem+json"
            assert_readable_by_app(answer)


async def test_an_unlisted_origin_gets_no_cors_headers(make_client: ClientFactory) -> None:
    async with make_client(cors_origins=[APP]) as client:
        body = (await register(client)).json()
        for headers in ({"Origin": OTHER}, {"Origin": "null"}, {}):
            answer = await client.get("/profile", headers={**headers, "Authorization": f"Bearer {body['token']}"})
            assert answer.status_code == 200
            assert cors_headers(answer) == {}
            assert "Origin" in answer.headers["vary"]  # a cache must not give the app's answer to another origin
            refused = await client.get("/profile", headers=headers)
            assert refused.status_code == 401 and cors_headers(refused) == {}


async def test_without_cors_origins_there_is_no_cors_at_all(client: httpx.AsyncClient) -> None:
    answer = await client.options("/login", headers=preflight("POST"))
    assert answer.status_code == 405 and cors_headers(answer) == {}
    login = await client.post(
        "/login", json={"email": "ada@example.com", "password": "x" * 12}, headers={"Origin": APP}
    )
    assert login.status_code == 401 and cors_headers(login) == {}
    assert "vary" not in login.headers
