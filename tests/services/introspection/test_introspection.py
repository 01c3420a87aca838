"""`POST /token/introspect`: what is active, what is not, and that a revocation shows at once."""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import update

from authgate.security.opaque import digest
from authgate.storage.models import Session, utcnow
from tests.support.app import TEST_SECRET, ClientFactory, runtime, sql
from tests.support.http import admin_token, bearer
from tests.support.introspection import Credential, answer, introspect, new_credential, signed_in
from tests.support.mfa import enrol, mfa_token

INACTIVE = {"active": False}
PREFIXES = ["", "/auth", "/api/auth", "/api/v1/auth"]


def claims_of(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


async def test_an_active_access_token_answers_with_its_claims(client: httpx.AsyncClient) -> None:
    credential = await new_credential(client)
    ada = await signed_in(client, username="ada")
    token = ada["accessToken"]
    claims = claims_of(token)

    body = await answer(client, credential, token)
    assert body == {
        "active": True,
        "token_type": "access_token",
        **{name: claims[name] for name in ("sub", "sid", "exp", "iat", "iss", "aud", "jti", "email", "role", "caps")},
        "amr": ["pwd"],
        "username": "ada",
    }
    assert body["sub"] == ada["user"]["id"] and body["email"] == "ada@example.com" and body["caps"] == []


async def test_an_admins_token_carries_its_capabilities_and_no_username_when_there_is_none(
    client: httpx.AsyncClient,
) -> None:
    credential = await new_credential(client)
    token = await admin_token(client)
    body = await answer(client, credential, token)
    assert body["active"] is True and body["role"] == "admin" and body["caps"] == ["*"]
    assert "username" not in body


@pytest.mark.parametrize("form", [True, False], ids=["form", "json"])
@pytest.mark.parametrize("basic", [True, False], ids=["basic", "body-credentials"])
async def test_form_and_json_bodies_with_basic_or_body_credentials(
    client: httpx.AsyncClient, form: bool, basic: bool
) -> None:
    credential = await new_credential(client)
    token = (await signed_in(client))["accessToken"]
    assert (await answer(client, credential, token, form=form, basic=basic))["active"] is True
    assert await answer(client, credential, "not-a-token", form=form, basic=basic) == INACTIVE


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_it_is_served_under_every_route_prefix(client: httpx.AsyncClient, prefix: str) -> None:
    credential = await new_credential(client)
    token = (await signed_in(client))["accessToken"]
    assert (await answer(client, credential, token, prefix=prefix))["active"] is True
    assert (await answer(client, credential, token, prefix=prefix, form=False))["active"] is True


async def test_a_form_post_is_refused_on_other_paths(client: httpx.AsyncClient) -> None:
    """Only the introspection path (and the reset form) take a form post; others still 415."""
    refused = await client.post("/login", data={"email": "ada@example.com", "password": "x"})
    assert refused.status_code == 415 and refused.json()["code"] == "unsupported_media_type"


# --- revocation shows at once ------------------------------------------------------------------

Revoke = Callable[[httpx.AsyncClient, dict[str, Any]], Awaitable[None]]


async def _logout(client: httpx.AsyncClient, ada: dict[str, Any]) -> None:
    assert (await client.post("/logout", headers=bearer(ada["accessToken"]))).status_code == 200


async def _delete_session(client: httpx.AsyncClient, ada: dict[str, Any]) -> None:
    sid = claims_of(ada["accessToken"])["sid"]
    response = await client.delete(f"/sessions/{sid}", headers=bearer(ada["accessToken"]))
    assert response.status_code == 204


async def _disable(client: httpx.AsyncClient, ada: dict[str, Any]) -> None:
    admin = bearer(await admin_token(client))
    response = await client.put(f"/user/{ada['user']['id']}", headers=admin, json={"disabled": True})
    assert response.status_code == 200, response.text


async def _delete_user(client: httpx.AsyncClient, ada: dict[str, Any]) -> None:
    admin = bearer(await admin_token(client))
    assert (await client.delete(f"/user/{ada['user']['id']}", headers=admin)).status_code == 204


@pytest.mark.parametrize("revoke", [_logout, _delete_session, _disable, _delete_user])
async def test_the_next_introspection_after_a_revocation_is_inactive(client: httpx.AsyncClient, revoke: Revoke) -> None:
    credential = await new_credential(client)
    ada = await signed_in(client)
    # The principal cache now holds the session: a local check could answer from it for a second.
    assert (await client.get("/profile", headers=bearer(ada["accessToken"]))).status_code == 200
    assert (await answer(client, credential, ada["accessToken"]))["active"] is True
    await revoke(client, ada)
    assert await answer(client, credential, ada["accessToken"]) == INACTIVE
    assert await answer(client, credential, ada["refreshToken"]) == INACTIVE


async def test_another_node_sees_a_revocation_at_once(make_client: ClientFactory) -> None:
    """Node B has the session in its principal cache (its own token checks may lag a revocation
    on node A by up to a second); its introspection reads the database and does not."""
    async with make_client() as node_a, make_client() as node_b:
        credential = await new_credential(node_a)
        ada = await signed_in(node_a)
        assert (await node_b.get("/profile", headers=bearer(ada["accessToken"]))).status_code == 200
        assert (await answer(node_b, credential, ada["accessToken"]))["active"] is True
        assert (await node_a.post("/logout", headers=bearer(ada["accessToken"]))).status_code == 200
        assert await answer(node_b, credential, ada["accessToken"]) == INACTIVE


async def test_a_disabled_user_is_inactive_even_while_the_session_row_is_live(client: httpx.AsyncClient) -> None:
    credential = await new_credential(client)
    ada = await signed_in(client)
    await sql(client, "UPDATE users SET disabled = :d WHERE id = :u", d=True, u=ada["user"]["id"])
    assert await answer(client, credential, ada["accessToken"]) == INACTIVE
    assert await answer(client, credential, ada["refreshToken"]) == INACTIVE


async def test_an_expired_session_is_inactive(client: httpx.AsyncClient) -> None:
    credential = await new_credential(client)
    ada = await signed_in(client)
    await sql(
        client,
        update(Session).where(Session.user_id == ada["user"]["id"]).values(expires_at=utcnow() - timedelta(seconds=1)),
    )
    assert await answer(client, credential, ada["accessToken"]) == INACTIVE
    assert await answer(client, credential, ada["refreshToken"]) == INACTIVE


# --- tokens that are not active ----------------------------------------------------------------


async def test_an_expired_access_token_is_inactive(client: httpx.AsyncClient) -> None:
    credential = await new_credential(client)
    claims = claims_of((await signed_in(client))["accessToken"])
    mine = {name: claims[name] for name in ("sub", "sid", "email", "role", "caps", "amr")}
    expired = runtime(client).codec.encode(mine, purpose="access", ttl_seconds=-5)
    assert await answer(client, credential, expired) == INACTIVE
    fresh = runtime(client).codec.encode(mine, purpose="access", ttl_seconds=60)
    assert (await answer(client, credential, fresh))["active"] is True  # the same claims, in date


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


async def test_a_token_signed_otherwise_is_inactive(client: httpx.AsyncClient) -> None:
    credential = await new_credential(client)
    token = (await signed_in(client))["accessToken"]
    claims, header = claims_of(token), jwt.get_unverified_header(token)
    head, _, signature = token.split(".")
    forged = [
        jwt.encode(claims, "another-secret-that-is-long-enough-!!", algorithm="HS256", headers=header),
        jwt.encode(claims, "another-secret-that-is-long-enough-!!", algorithm="HS256"),
        f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}.",
        f"{head}.{_b64({**claims, 'role': 'admin', 'caps': ['*']})}.{signature}",
        f"{_b64({**header, 'kid': 'unknown-key'})}.{token.split('.', 1)[1]}",
    ]
    for token_ in forged:
        assert await answer(client, credential, token_) == INACTIVE, token_
    for name, value in (("aud", "someone-else"), ("iss", "https://elsewhere.example")):
        other = jwt.encode({**claims, name: value}, TEST_SECRET, algorithm="HS256", headers=header)
        assert await answer(client, credential, other) == INACTIVE, name


async def test_other_kinds_of_token_are_inactive(client: httpx.AsyncClient) -> None:
    credential = await new_credential(client)
    account = await enrol(client)
    assert await answer(client, credential, await mfa_token(client, account)) == INACTIVE
    claims = claims_of(account.token)
    for purpose in ("mfa", "refresh", "reset_password", "verify_email", ""):
        other = runtime(client).codec.encode(
            {"sub": claims["sub"], "sid": claims["sid"]}, purpose=purpose, ttl_seconds=60
        )
        assert await answer(client, credential, other) == INACTIVE, purpose
    no_session = runtime(client).codec.encode({"sub": claims["sub"], "sid": "nope"}, purpose="access", ttl_seconds=60)
    assert await answer(client, credential, no_session) == INACTIVE
    someone_else = runtime(client).codec.encode(
        {"sub": "someone", "sid": claims["sid"]}, purpose="access", ttl_seconds=60
    )
    assert await answer(client, credential, someone_else) == INACTIVE


@pytest.mark.parametrize(
    "garbage",
    ["x", "a.b.c", "a.b", "....", "e30.e30.e30", "\u00e9\u00e8\u00ea", "zz\x00zz", "Bearer abc", "A" * 20_000, " "],
)
async def test_garbage_is_inactive(client: httpx.AsyncClient, garbage: str) -> None:
    credential = await new_credential(client)
    await signed_in(client)
    assert await answer(client, credential, garbage) == INACTIVE
    assert await answer(client, credential, garbage, form=False) == INACTIVE


async def test_a_missing_token_is_a_400_after_the_client_is_known(client: httpx.AsyncClient) -> None:
    credential = await new_credential(client)
    for body in ({}, {"token": ""}):
        anonymous = await client.post("/token/introspect", data=body)
        assert anonymous.status_code == 401
        refused = await client.post("/token/introspect", data=body, headers=credential.basic)
        assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == "token"
    wrong_type = await client.post("/token/introspect", json={"token": 42}, headers=credential.basic)
    assert wrong_type.status_code == 400 and wrong_type.json()["code"] == "validation_failed"
    twice = await client.post(
        "/token/introspect",
        content=b"token=a&token=b",
        headers={**credential.basic, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert twice.status_code == 400 and twice.json()["errors"][0]["field"] == "token"


async def test_other_body_types_are_refused(client: httpx.AsyncClient) -> None:
    credential = await new_credential(client)
    multipart = await client.post("/token/introspect", files={"token": ("t", b"abc")}, headers=credential.basic)
    assert multipart.status_code == 415
    text = await client.post(
        "/token/introspect", content=b"token=abc", headers={**credential.basic, "Content-Type": "text/plain"}
    )
    assert text.status_code == 415


# --- refresh tokens ----------------------------------------------------------------------------


async def test_a_current_refresh_token_is_active_and_a_rotated_out_one_is_not(client: httpx.AsyncClient) -> None:
    credential = await new_credential(client)
    ada = await signed_in(client, username="ada")
    first = ada["refreshToken"]
    sid = claims_of(ada["accessToken"])["sid"]

    body = await answer(client, credential, first, hint="refresh_token")
    assert body.keys() == {"active", "token_type", "sub", "sid", "exp", "iat", "iss", "username"}
    assert body["token_type"] == "refresh_token" and body["sub"] == ada["user"]["id"] and body["sid"] == sid
    assert body["iss"] == claims_of(ada["accessToken"])["iss"] and body["exp"] > body["iat"]
    assert await answer(client, credential, first) == body  # the hint only orders the lookups

    rotated = await client.post("/refresh", json={"refreshToken": first})
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()["refreshToken"]
    assert await answer(client, credential, first) == INACTIVE  # even within the reuse grace window
    assert (await answer(client, credential, second))["sid"] == sid
    # An access token with the other hint is still found.
    assert (await answer(client, credential, rotated.json()["accessToken"], hint="refresh_token"))["active"] is True


async def test_introspecting_a_refresh_token_changes_nothing(client: httpx.AsyncClient) -> None:
    """No rotation, and no reuse detection: a rotated-out token asked about after the grace
    window does not end the session."""
    credential = await new_credential(client)
    ada = await signed_in(client)
    first = ada["refreshToken"]
    for _ in range(3):
        assert (await answer(client, credential, first))["active"] is True
    second = (await client.post("/refresh", json={"refreshToken": first})).json()["refreshToken"]
    await sql(
        client,
        update(Session)
        .where(Session.previous_refresh_hash == digest(first))
        .values(rotated_at=utcnow() - timedelta(seconds=60)),
    )
    assert await answer(client, credential, first) == INACTIVE
    assert (await client.post("/refresh", json={"refreshToken": second})).status_code == 200


async def test_the_answer_never_reaches_the_log(client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]) -> None:
    credential = await new_credential(client)
    ada = await signed_in(client)
    for token in (ada["accessToken"], ada["refreshToken"], "garbage-token-value"):
        await answer(client, credential, token)
        await introspect(client, Credential(credential.client_id, "wrong"), token)
    out = capsys.readouterr()
    logged = out.out + out.err
    assert "introspection_client_refused" in logged
    for secret in (ada["accessToken"], ada["refreshToken"], "garbage-token-value", credential.secret):
        assert secret not in logged
