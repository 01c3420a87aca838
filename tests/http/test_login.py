"""POST /login: the bodies of every compatible API, enumeration resistance, the whole password counting."""

from __future__ import annotations

import httpx
import jwt
import pytest

from tests.support.http import STRONG_PASSWORD, bearer, register
from tests.support.metrics import password_hashes


async def hash_ops(client: httpx.AsyncClient) -> float:
    """How many password verifications the app has run (from its metrics)."""
    return await password_hashes(client, "verify")


async def test_login_answers_the_login_response(client: httpx.AsyncClient) -> None:
    await register(client, "user@example.com", name="Ada")
    response = await client.post("/api/auth/login", json={"email": "user@example.com", "password": STRONG_PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "Login successful"
    assert body["token"] == body["accessToken"]
    assert body["user"]["email"] == "user@example.com" and body["user"]["role"] == "user"
    assert body["name"] == "Ada" and body["email"] == "user@example.com"


async def test_login_email_is_case_insensitive(client: httpx.AsyncClient) -> None:
    await register(client, "case@example.com")
    response = await client.post("/login", json={"email": "CASE@Example.COM", "password": STRONG_PASSWORD})
    assert response.status_code == 200


async def test_wrong_password_and_unknown_user_look_the_same(client: httpx.AsyncClient) -> None:
    await register(client, "known@example.com")
    before = await hash_ops(client)
    wrong = await client.post("/login", json={"email": "known@example.com", "password": "Wrong-Pass-1"})
    middle = await hash_ops(client)
    unknown = await client.post("/login", json={"email": "nobody@example.com", "password": "Wrong-Pass-1"})
    after = await hash_ops(client)
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["code"] == "invalid_credentials"
    assert dict(wrong.headers).keys() == dict(unknown.headers).keys()
    # Both paths ran exactly one bcrypt verification: the same work, so the same time.
    assert middle - before == 1 and after - middle == 1


async def test_malformed_email_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post("/login", json={"email": "not-an-email", "password": "whatever1A"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "email"


@pytest.mark.parametrize(
    "body",
    [{}, {"email": "a@example.com"}, {"password": "x"}, {"email": "a@example.com", "password": ""}, []],
)
async def test_missing_credentials_are_400(client: httpx.AsyncClient, body: object) -> None:
    response = await client.post("/login", json=body)
    assert response.status_code == 400
    assert response.json()["code"] == "validation_failed"


async def test_login_by_username_or_by_name_and_pin(make_client) -> None:  # type: ignore[no-untyped-def]
    async with make_client(password_require_mixed=False, password_block_common=False, password_min_length=4) as c:
        await register(c, "cool@example.com", "0000", username="cooluser1")
        by_name = await c.post("/auth/login", json={"name": "cooluser1", "pin": "0000"})
        assert by_name.status_code == 200, by_name.text
        by_username = await c.post("/auth/login", json={"username": "COOLUSER1", "password": "0000"})
        assert by_username.status_code == 200
        wrong = await c.post("/auth/login", json={"name": "cooluser1", "pin": "0001"})
        assert wrong.status_code == 401


async def test_multibyte_password_round_trips(client: httpx.AsyncClient) -> None:
    password = "Pässwörd-日本語-9Z"
    await register(client, "utf@example.com", password)
    ok = await client.post("/login", json={"email": "utf@example.com", "password": password})
    assert ok.status_code == 200


async def test_each_login_is_its_own_session(client: httpx.AsyncClient) -> None:
    await register(client, "two@example.com")
    first = (await client.post("/login", json={"email": "two@example.com", "password": STRONG_PASSWORD})).json()
    second = (await client.post("/login", json={"email": "two@example.com", "password": STRONG_PASSWORD})).json()
    sid1 = jwt.decode(first["token"], options={"verify_signature": False})["sid"]
    sid2 = jwt.decode(second["token"], options={"verify_signature": False})["sid"]
    assert sid1 != sid2
    for body in (first, second):
        assert (await client.get("/profile", headers=bearer(body["token"]))).status_code == 200


async def test_require_email_verification_refuses_unverified(make_client) -> None:  # type: ignore[no-untyped-def]
    async with make_client(require_email_verification=True) as c:
        await c.post("/register", json={"email": "unv@example.com", "password": STRONG_PASSWORD})
        response = await c.post("/login", json={"email": "unv@example.com", "password": STRONG_PASSWORD})
        assert response.status_code == 403
        assert response.json()["code"] == "email_not_verified"
        wrong = await c.post("/login", json={"email": "unv@example.com", "password": "Wrong-Pass-1"})
        assert wrong.status_code == 401
