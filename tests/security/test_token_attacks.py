"""RFC 8725 (JWT best current practice): only a well-formed access token, signed by one of our
own keys with that key's algorithm, unexpired, for us, of a live session, passes. Each test is
an attack: `alg: none` in any spelling, another algorithm with the same secret, tampered
claims, headers that try to choose or fetch the key (`kid`, `jku`, `x5u`, `jwk`), and every
other kind of token or secret the service hands out, presented as an access token.
(The asymmetric-key variants, such as HS256 signed with the public key: tests/runtime/keys.)"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import httpx
import jwt
import pytest

from tests.support.app import TEST_SECRET
from tests.support.http import bearer, register
from tests.support.mail import Mailbox, link_in
from tests.support.mfa import enrol, mfa_token


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
    for alg in ("none", "None", "NONE", "nOnE", ""):
        unsigned = f"{b64({'alg': alg, 'typ': 'JWT'})}.{b64(claims)}"
        await assert_refused(client, unsigned + ".")
        await assert_refused(client, unsigned + ".c2lnbmF0dXJl")  # any signature part with it


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
async def test_other_algorithm_with_same_secret_is_refused(client: httpx.AsyncClient) -> None:
    _, claims = await claims_of(client)
    for alg in ("HS384", "HS512"):
        await assert_refused(client, jwt.encode(claims, TEST_SECRET, algorithm=alg))


@pytest.mark.parametrize(
    "change",
    [{"role": "admin", "caps": ["*"]}, {"sub": "00000000-0000-0000-0000-000000000000"}, {"exp": 4102444800}],
    ids=["privileges", "subject", "lifetime"],
)
async def test_tampered_claims_are_refused(client: httpx.AsyncClient, change: dict[str, Any]) -> None:
    token, claims = await claims_of(client)
    header, _, signature = token.split(".")
    await assert_refused(client, f"{header}.{b64({**claims, **change})}.{signature}")


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


ATTACKER_KEY = "attacker-key-that-is-long-enough-000000"


@pytest.mark.parametrize(
    "headers",
    [
        {"kid": "../../../../dev/null"},
        {"kid": "' OR '1'='1"},
        {"kid": "hs-0000"},
        {"jku": "https://evil.example/jwks.json"},
        {"x5u": "https://evil.example/cert.pem"},
        {"jwk": {"kty": "oct", "k": base64.urlsafe_b64encode(ATTACKER_KEY.encode()).decode().rstrip("=")}},
    ],
    ids=["kid_path_traversal", "kid_sql_injection", "kid_unknown", "jku", "x5u", "jwk"],
)
async def test_headers_never_choose_or_fetch_the_key(client: httpx.AsyncClient, headers: dict[str, Any]) -> None:
    """RFC 8725 §3.10: a token signed with the attacker's key, naming that key (or where to
    fetch it) in its header, is refused: keys come only from our own ring, by our `kid`."""
    _, claims = await claims_of(client)
    await assert_refused(client, jwt.encode(claims, ATTACKER_KEY, algorithm="HS256", headers=headers))


async def test_a_kid_that_is_not_a_string_is_refused(client: httpx.AsyncClient) -> None:
    """PyJWT will not write such a header, so it is signed here, as an attacker would."""
    _, claims = await claims_of(client)
    signing_input = f"{b64({'alg': 'HS256', 'typ': 'JWT', 'kid': ['a', 'list']})}.{b64(claims)}"
    mac = hmac.new(TEST_SECRET.encode(), signing_input.encode(), hashlib.sha256).digest()
    await assert_refused(client, f"{signing_input}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}")


async def test_our_kid_on_a_token_signed_with_another_key_is_refused(client: httpx.AsyncClient) -> None:
    token, claims = await claims_of(client)
    our_kid = jwt.get_unverified_header(token)["kid"]
    await assert_refused(client, jwt.encode(claims, ATTACKER_KEY, algorithm="HS256", headers={"kid": our_kid}))


async def test_token_type_confusion_no_other_token_is_an_access_token(
    mclient: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    """RFC 8725 §3.11: everything else the service issues (a refresh token, an mfaToken, the
    token of a magic, verification or reset link, a TOTP seed, a recovery code) is refused as
    a Bearer access token, and as the access-token cookie."""
    account = await enrol(mclient, email="ada@example.com")
    signed_in = (
        await mclient.post("/login", json={**account.login_body(), "mfaCode": await account.app.code()})
    ).json()
    pending = await mfa_token(mclient, account)
    links = []
    for path, prefix in (("/login/magic", "/login/magic/"), ("/password/forgot", "/password/reset/")):
        assert (await mclient.post(path, json={"email": account.email})).status_code == 202
        links.append(link_in(await mailbox.wait_for(account.email, len(links) + 1), prefix).rsplit("/", 1)[1])
    others = [signed_in["refreshToken"], pending, *links, account.secret, account.recovery_codes[0]]
    for other in others:
        await assert_refused(client=mclient, token=other)
        mclient.cookies.clear()
        mclient.cookies.set("accessToken", other)
        answer = await mclient.get("/user")
        assert answer.status_code == 401 and answer.json()["code"] == "invalid_token"
    mclient.cookies.clear()
    assert (await mclient.get("/user", headers=bearer(signed_in["token"]))).status_code == 200


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
