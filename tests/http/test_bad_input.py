"""Bad input anywhere is a fast 4xx problem document, never a 500."""

from __future__ import annotations

import httpx
import pytest

from tests.support.http import STRONG_PASSWORD, bearer, register
from tests.support.metrics import password_hashes

PROBLEM = "application/problem+json"


@pytest.mark.parametrize("path", ["/register", "/login", "/api/auth/login"])
@pytest.mark.parametrize(
    "raw",
    [b"{", b"not json", b'{"email": "a@example.com",}', b"\xff\xfe\x00", b"null", b"42", b'"string"', b"[1,2]"],
)
async def test_malformed_json_is_400(client: httpx.AsyncClient, path: str, raw: bytes) -> None:
    response = await client.post(path, content=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["code"] == "validation_failed"


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "application/x-www-form-urlencoded", ""])
async def test_wrong_content_type_is_415(client: httpx.AsyncClient, content_type: str) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = await client.post("/login", content=b'{"email":"a@example.com","password":"x"}', headers=headers)
    assert response.status_code == 415
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["code"] == "unsupported_media_type"


async def test_json_with_charset_is_fine(client: httpx.AsyncClient) -> None:
    body = f'{{"email":"cs@example.com","password":"{STRONG_PASSWORD}"}}'.encode()
    response = await client.post("/register", content=body, headers={"Content-Type": "application/json; charset=utf-8"})
    assert response.status_code == 201


async def test_body_over_64_kib_is_413_before_hashing(client: httpx.AsyncClient) -> None:
    response = await client.post("/login", json={"email": "a@example.com", "password": "A1a" * 30_000})
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["code"] == "payload_too_large"
    assert await password_hashes(client, "verify") == await password_hashes(client, "hash") == 0


async def test_one_megabyte_password_is_refused_fast(client: httpx.AsyncClient) -> None:
    for path in ("/register", "/login"):
        response = await client.post(path, json={"email": "big@example.com", "password": "Aa1" + "x" * 1_000_000})
        assert response.status_code == 413


async def test_chunked_body_over_the_limit_is_413(client: httpx.AsyncClient) -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(100):
            yield b"x" * 1024

    response = await client.post("/login", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413


async def test_password_longer_than_the_policy_allows_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post("/register", json={"email": "p@example.com", "password": "Aa1" + "x" * 2000})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "password"


@pytest.mark.parametrize(
    "body",
    [
        {"email": ["a@example.com"], "password": "x"},
        {"email": {"$ne": None}, "password": "x"},
        {"email": "a@example.com", "password": None, "pin": None},
        {"email": True, "password": False},
        {"email": "a@example.com", "password": "x", "options": {"setCookie": "yes"}},
    ],
)
async def test_wrong_field_types_are_400(client: httpx.AsyncClient, body: dict) -> None:
    response = await client.post("/login", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "validation_failed"


async def test_put_user_bad_body_is_400(client: httpx.AsyncClient) -> None:
    token = (await register(client)).json()["token"]
    response = await client.put("/user", headers={**bearer(token), "Content-Type": "application/json"}, content=b"{")
    assert response.status_code == 400


async def test_unknown_path_and_method_are_problems(client: httpx.AsyncClient) -> None:
    missing = await client.get("/nope")
    assert missing.status_code == 404 and missing.headers["content-type"] == PROBLEM
    assert missing.json()["code"] == "not_found"
    wrong_method = await client.delete("/login")
    assert wrong_method.status_code == 405 and wrong_method.json()["code"] == "method_not_allowed"


async def test_no_stack_trace_or_internal_detail_in_errors(client: httpx.AsyncClient) -> None:
    for response in (
        await client.post("/login", content=b"{", headers={"Content-Type": "application/json"}),
        await client.get("/profile", headers=bearer("x.y.z")),
    ):
        assert "Traceback" not in response.text and "sqlalchemy" not in response.text.lower()
