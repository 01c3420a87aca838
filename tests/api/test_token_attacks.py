"""RFC 8725: only well-formed, correctly signed, unexpired access tokens pass."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import httpx
import jwt
import pytest

from tests.conftest import TEST_SECRET
from tests.helpers import bearer, register


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


async def claims_of(client: httpx.AsyncClient) -> tuple[str, dict[str, Any]]:
    token = (await register(client)).json()["token"]
    return token, jwt.decode(token, options={"verify_signature": False})


async def assert_refused(client: httpx.AsyncClient, token: str, code: str = "invalid_token") -> None:
    response = await client.get("/api/v1/auth/profile", headers=bearer(token))
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code


async def test_valid_token_has_the_spec_claims(client: httpx.AsyncClient) -> None:
    token, claims = await claims_of(client)
    header = jwt.get_unverified_header(token)
    assert header.keys() == {"alg", "typ", "kid"} and header["alg"] == "HS256" and header["typ"] == "JWT"
    for name in ("iss", "aud", "sub", "sid", "iat", "exp", "jti", "email", "role", "caps", "amr"):
        assert name in claims, name
    assert claims["amr"] == ["pwd"] and claims["role"] == "user" and claims["caps"] == []
    assert claims["exp"] - claims["iat"] == 900
    assert (await client.get("/api/v1/auth/profile", headers=bearer(token))).status_code == 200


async def test_alg_none_is_refused(client: httpx.AsyncClient) -> None:
    _, claims = await claims_of(client)
    for alg in ("none", "None", "NONE"):
        await assert_refused(client, f"{b64({'alg': alg, 'typ': 'JWT'})}.{b64(claims)}.")


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
async def test_other_algorithm_with_same_secret_is_refused(client: httpx.AsyncClient) -> None:
    _, claims = await claims_of(client)
    for alg in ("HS384", "HS512"):
        await assert_refused(client, jwt.encode(claims, TEST_SECRET, algorithm=alg))


async def test_tampered_payload_is_refused(client: httpx.AsyncClient) -> None:
    token, claims = await claims_of(client)
    header, _, signature = token.split(".")
    forged = {**claims, "role": "admin", "caps": ["*"]}
    await assert_refused(client, f"{header}.{b64(forged)}.{signature}")


async def test_wrong_secret_is_refused(client: httpx.AsyncClient) -> None:
    _, claims = await claims_of(client)
    await assert_refused(client, jwt.encode(claims, "another-secret-that-is-long-enough-!!", algorithm="HS256"))


async def test_expired_token_says_expired(client: httpx.AsyncClient) -> None:
    _, claims = await claims_of(client)
    past = {**claims, "iat": int(time.time()) - 3600, "exp": int(time.time()) - 1}
    await assert_refused(client, jwt.encode(past, TEST_SECRET, algorithm="HS256"), code="token_expired")


async def test_missing_exp_is_refused(client: httpx.AsyncClient) -> None:
    _, claims = await claims_of(client)
    claims.pop("exp")
    await assert_refused(client, jwt.encode(claims, TEST_SECRET, algorithm="HS256"))


@pytest.mark.parametrize(("claim", "value"), [("aud", "someone-else"), ("iss", "https://evil.example")])
async def test_wrong_audience_or_issuer_is_refused(client: httpx.AsyncClient, claim: str, value: str) -> None:
    _, claims = await claims_of(client)
    await assert_refused(client, jwt.encode({**claims, claim: value}, TEST_SECRET, algorithm="HS256"))


async def test_other_purpose_is_not_an_access_token(client: httpx.AsyncClient) -> None:
    _, claims = await claims_of(client)
    for purpose in ("mfa", "reset", None):
        forged = {**claims, "purpose": purpose} if purpose else {k: v for k, v in claims.items() if k != "purpose"}
        await assert_refused(client, jwt.encode(forged, TEST_SECRET, algorithm="HS256"))


async def test_kid_and_jku_headers_do_not_choose_keys(client: httpx.AsyncClient) -> None:
    _, claims = await claims_of(client)
    token = jwt.encode(
        claims,
        "attacker-key-that-is-long-enough-000000",
        algorithm="HS256",
        headers={"kid": "../../dev/null", "jku": "https://evil.example/jwks.json"},
    )
    await assert_refused(client, token)


async def test_token_of_unknown_session_is_refused(client: httpx.AsyncClient) -> None:
    _, claims = await claims_of(client)
    await assert_refused(client, jwt.encode({**claims, "sid": "not-a-session"}, TEST_SECRET, algorithm="HS256"))


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer ", "Bearer junk", "Bearer a.b.c", "Basic dXNlcjpwYXNz", "Bearer " + "x" * 5000, "eyJ"],
)
async def test_junk_authorization_is_refused(client: httpx.AsyncClient, header: str) -> None:
    response = await client.get("/api/v1/auth/profile", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


async def test_no_token_is_refused(client: httpx.AsyncClient) -> None:
    for path in ("/profile", "/user", "/auth/profile", "/api/auth/user"):
        response = await client.get(path)
        assert response.status_code == 401
        assert response.json()["code"] == "invalid_token"
