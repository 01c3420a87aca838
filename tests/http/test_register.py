"""POST /register: the documented bodies of the APIs authgate replaces, validation, uniqueness, and the 100-way race."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest

from tests.support.http import STRONG_PASSWORD, bearer, register

PREFIXES = ["", "/auth", "/api/auth", "/api/v1/auth"]


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_register_answers_201_with_the_login_response(client: httpx.AsyncClient, prefix: str) -> None:
    response = await client.post(
        f"{prefix}/register", json={"name": "John Doe", "email": "john@example.com", "password": "TestPass123"}
    )
    assert response.status_code == 201
    body = response.json()
    assert body["token"] == body["accessToken"] and body["tokenType"] == "Bearer"
    assert body["expiresIn"] == 900
    assert body["name"] == "John Doe" and body["email"] == "john@example.com"
    user = body["user"]
    assert set(user) == {
        "id",
        "email",
        "name",
        "username",
        "phone",
        "role",
        "caps",
        "emailVerified",
        "phoneVerified",
        "mfaEnabled",
        "created_at",
        "createdAt",
        "updatedAt",
    }
    assert user["role"] == "user" and user["caps"] == [] and user["emailVerified"] is False
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", user["created_at"])
    assert re.fullmatch(r"[0-9a-f-]{36}", user["id"])
    assert "$2b$" not in response.text


async def test_email_is_normalised_and_unique_case_insensitively(client: httpx.AsyncClient) -> None:
    first = await client.post("/register", json={"email": "  Mixed.Case@EXAMPLE.Com ", "password": STRONG_PASSWORD})
    assert first.status_code == 201
    assert first.json()["email"] == "Mixed.Case@example.com"
    again = await client.post("/register", json={"email": "mixed.case@example.com", "password": STRONG_PASSWORD})
    assert again.status_code == 409
    assert again.json()["code"] == "email_taken"
    assert again.headers["content-type"] == "application/problem+json"


async def test_username_is_unique(client: httpx.AsyncClient) -> None:
    await register(client, "a@example.com", username="Cooluser1")
    taken = await client.post(
        "/register", json={"email": "b@example.com", "password": STRONG_PASSWORD, "username": "cooluser1"}
    )
    assert taken.status_code == 409
    assert taken.json()["code"] == "username_taken"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"password": STRONG_PASSWORD}, "email"),
        ({"email": "not-an-email", "password": STRONG_PASSWORD}, "email"),
        ({"email": "a@b", "password": STRONG_PASSWORD}, "email"),
        ({"email": "x@example.com", "password": "Short1"}, "password"),
        ({"email": "x@example.com", "password": "alllowercase123"}, "password"),
        ({"email": "x@example.com", "password": "NoDigitsHere"}, "password"),
        ({"email": "x@example.com", "password": "Password123"}, "password"),
        ({"email": "x@example.com", "password": STRONG_PASSWORD, "name": "n" * 101}, "name"),
        ({"email": "x@example.com", "password": STRONG_PASSWORD, "username": "bad name!"}, "username"),
        ({"email": "x@example.com", "password": STRONG_PASSWORD, "phone": "12345"}, "phone"),
        ({"email": 12345, "password": STRONG_PASSWORD}, "email"),
        ({"email": "x@example.com", "password": 12345678}, "password"),
        ({"email": "x@example.com", "password": STRONG_PASSWORD, "options": "yes"}, "options"),
    ],
)
async def test_invalid_fields_get_400_with_field_errors(client: httpx.AsyncClient, body: dict, field: str) -> None:
    response = await client.post("/api/auth/register", json=body)
    assert response.status_code == 400, response.text
    problem = response.json()
    assert problem["code"] == "validation_failed" and problem["status"] == 400
    assert field in {e["field"] for e in problem["errors"]}, problem


async def test_every_bad_field_is_reported_at_once(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/register", json={"email": "nope", "password": "short", "name": "n" * 101, "phone": "abc"}
    )
    assert response.status_code == 400
    assert {e["field"] for e in response.json()["errors"]} == {"email", "password", "name", "phone"}


async def test_role_in_register_body_is_ignored(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/register", json={"email": "r@example.com", "password": STRONG_PASSWORD, "role": "admin", "caps": ["*"]}
    )
    assert response.status_code == 201
    assert response.json()["user"]["role"] == "user" and response.json()["user"]["caps"] == []


async def test_password_policy_is_configurable(make_client) -> None:  # type: ignore[no-untyped-def]
    async with make_client(password_require_mixed=False, password_block_common=False, password_min_length=4) as c:
        response = await c.post("/register", json={"email": "pin@example.com", "password": "0000"})
        assert response.status_code == 201


async def test_register_without_password_sets_a_random_one(client: httpx.AsyncClient) -> None:
    response = await client.post("/register", json={"email": "nopass@example.com"})
    assert response.status_code == 201
    login = await client.post("/login", json={"email": "nopass@example.com", "password": ""})
    assert login.status_code == 400


async def test_128_character_password_is_accepted(client: httpx.AsyncClient) -> None:
    password = "Aa1" + "x" * 125
    await register(client, "long@example.com", password)
    ok = await client.post("/login", json={"email": "long@example.com", "password": password})
    assert ok.status_code == 200


async def test_hundred_parallel_registrations_of_one_email_make_one_account(client: httpx.AsyncClient) -> None:
    async def attempt(i: int) -> httpx.Response:
        return await client.post(
            "/register", json={"email": "race@example.com", "password": STRONG_PASSWORD, "name": f"r{i}"}
        )

    responses = await asyncio.gather(*(attempt(i) for i in range(100)))
    codes = sorted(r.status_code for r in responses)
    assert codes.count(201) == 1, codes
    assert codes.count(409) == 99, codes
    winner = next(r for r in responses if r.status_code == 201)
    login = await client.post("/login", json={"email": "race@example.com", "password": STRONG_PASSWORD})
    assert login.status_code == 200
    assert login.json()["user"]["id"] == winner.json()["user"]["id"]
    profile = await client.get("/profile", headers=bearer(login.json()["token"]))
    assert profile.json()["name"] == winner.json()["name"]
