"""Asymmetric signing keys: `kid` in every token, the JWKS, rotation with a grace period, and
the attacks on key choice (RFC 8725). On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from authgate.runtime import key_ring as keys
from tests.support.app import TEST_SECRET, ClientFactory, runtime, sql
from tests.support.http import bearer, register
from tests.support.server import PATIENCE

ALGORITHMS = ["EdDSA", "ES256", "RS256"]


async def jwks(client: httpx.AsyncClient, prefix: str = "") -> list[dict[str, Any]]:
    response = await client.get(f"{prefix}/.well-known/jwks.json")
    assert response.status_code == 200, response.text
    published: list[dict[str, Any]] = response.json()["keys"]
    return published


async def profile_status(client: httpx.AsyncClient, token: str) -> int:
    return (await client.get("/profile", headers=bearer(token))).status_code


async def login(client: httpx.AsyncClient, email: str = "ada@example.com") -> str:
    response = await client.post("/login", json={"email": email, "password": "Sturdy-Horse-42"})
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token


def kid_of(token: str) -> str:
    kid: str = jwt.get_unverified_header(token)["kid"]
    return kid


@pytest.mark.parametrize("algorithm", ALGORITHMS)
async def test_token_is_signed_by_the_published_key(make_client: ClientFactory, algorithm: str) -> None:
    async with make_client(jwt_algorithm=algorithm) as client:
        token = (await register(client)).json()["token"]
        header = jwt.get_unverified_header(token)
        assert header["alg"] == algorithm and header["typ"] == "JWT"
        published = await jwks(client)
        assert [k["kid"] for k in published] == [header["kid"]]
        jwk = published[0]
        assert jwk["alg"] == algorithm and jwk["use"] == "sig"
        assert not {"d", "p", "q", "dp", "dq", "qi", "key_ops"} & jwk.keys(), "only public members are published"
        # Anyone can verify it with the JWKS alone.
        claims = jwt.decode(token, jwt.PyJWK(jwk).key, algorithms=[algorithm], audience="authgate")
        assert claims["purpose"] == "access" and claims["email"] == "ada@example.com"
        assert await profile_status(client, token) == 200


async def test_private_key_is_sealed_at_rest(make_client: ClientFactory) -> None:
    async with make_client(jwt_algorithm="EdDSA") as client:
        rows = await sql(client, "SELECT kid, private_key, public_jwk FROM signing_keys")
        assert len(rows) == 1
        kid, private, public = rows[0]
        assert private.startswith("v1.") and "PRIVATE KEY" not in private
        assert "d" not in json.loads(public)
        # The sealed key is bound to its kid: moved to another row, it does not open.
        with pytest.raises(ValueError):
            runtime(client).box.open(private, context=keys.sealing_context("another-kid"))
        assert "PRIVATE KEY" in runtime(client).box.open(private, context=keys.sealing_context(kid))


async def test_jwks_is_served_under_every_prefix_with_bounded_cache(make_client: ClientFactory) -> None:
    async with make_client(jwt_algorithm="ES256") as client:
        for prefix in ("", "/auth", "/api/auth", "/api/v1/auth"):
            assert len(await jwks(client, prefix)) == 1
        response = await client.get("/.well-known/jwks.json")
        assert response.headers["cache-control"] == "public, max-age=300"
        await keys.rotate(runtime(client), reason="test", grace_seconds=100)
        response = await client.get("/.well-known/jwks.json")
        max_age = int(response.headers["cache-control"].rpartition("=")[2])
        assert 95 <= max_age <= 100, "a verifier must not cache the set past the old key's end"


async def test_hs256_publishes_no_key_and_names_its_secret_by_kid(client: httpx.AsyncClient) -> None:
    assert await jwks(client) == []
    token = (await register(client)).json()["token"]
    kid = kid_of(token)
    assert kid.startswith("hs-") and TEST_SECRET not in kid
    claims = jwt.decode(token, options={"verify_signature": False})
    # A token from before key ids (no kid) still verifies with the secret ...
    assert await profile_status(client, jwt.encode(claims, TEST_SECRET, algorithm="HS256")) == 200
    # ... but a kid that is not ours does not fall back to it.
    other = jwt.encode(claims, TEST_SECRET, algorithm="HS256", headers={"kid": "hs-somebody-else"})
    assert await profile_status(client, other) == 401


async def test_rotation_keeps_old_tokens_valid_until_the_grace_ends(make_client: ClientFactory) -> None:
    async with make_client(jwt_algorithm="EdDSA") as client:
        old = (await register(client)).json()["token"]
        assert await profile_status(client, old) == 200  # now cached as verified
        # A grace of 5 s: time enough on a loaded machine to log in and check within it.
        rotated = time.monotonic()
        new_kid = await keys.rotate(runtime(client), reason="test", grace_seconds=5)
        assert [k["kid"] for k in await jwks(client)] == [new_kid, kid_of(old)], "signing key first, then the old"
        fresh = await login(client)
        assert kid_of(fresh) == new_kid
        assert await profile_status(client, old) == 200, "within the grace period"
        await asyncio.sleep(max(0.0, rotated + 5.2 - time.monotonic()))  # past the grace
        assert await profile_status(client, old) == 401, "the cached verification must not outlive the key"
        assert await profile_status(client, fresh) == 200
        assert [k["kid"] for k in await jwks(client)] == [new_kid]


async def test_rotation_with_no_grace_ends_old_tokens_at_once(make_client: ClientFactory) -> None:
    async with make_client(jwt_algorithm="ES256") as client:
        old = (await register(client)).json()["token"]
        assert await profile_status(client, old) == 200
        await keys.rotate(runtime(client), reason="compromised", grace_seconds=0)
        assert await profile_status(client, old) == 401
        kinds = await sql(client, "SELECT type, data FROM audit_log WHERE type = 'signing_key.rotated'")
        assert len(kinds) == 2 and '"reason":"compromised"' in kinds[-1][1]  # the first key, then this one


async def test_a_kid_rotated_in_by_another_node_is_recognised_at_once(make_client: ClientFactory) -> None:
    async with make_client(jwt_algorithm="EdDSA") as node_a, make_client(jwt_algorithm="EdDSA") as node_b:
        await register(node_a)
        assert kid_of(await login(node_a)) == kid_of(await login(node_b))
        new_kid = await keys.rotate(runtime(node_b), reason="test")
        token = await login(node_b)
        assert kid_of(token) == new_kid
        assert runtime(node_a).keys.lookup(new_kid) is None, "node A has not read the table since"
        await asyncio.sleep(1.0)  # unknown kids make a node read the table at most once a second
        assert await profile_status(node_a, token) == 200
        assert (await jwks(node_a))[0]["kid"] == new_kid


async def test_scheduled_rotation_by_two_nodes_at_once_makes_one_key(make_client: ClientFactory) -> None:
    async with make_client(jwt_algorithm="EdDSA") as node_a, make_client(jwt_algorithm="EdDSA") as node_b:
        current = runtime(node_a).keys.signer
        assert current is not None
        made = await asyncio.gather(
            *(keys.rotate(runtime(node), reason="scheduled", only=current.kid) for node in (node_a, node_b) * 3)
        )
        assert len([kid for kid in made if kid is not None]) == 1
        rows = await sql(node_a, "SELECT kid FROM signing_keys WHERE retired_at IS NULL")
        assert len(rows) == 1


async def test_automatic_rotation(make_client: ClientFactory) -> None:
    async with make_client(jwt_algorithm="EdDSA", key_rotation_seconds=1, key_grace_seconds=60) as client:
        await register(client)
        first = kid_of(await login(client))
        deadline = time.monotonic() + PATIENCE
        while kid_of(token := await login(client)) == first:
            assert time.monotonic() < deadline, f"no rotation within {PATIENCE:g} s"
            await asyncio.sleep(0.5)
        assert {k["kid"] for k in await jwks(client)} >= {first, kid_of(token)}


async def test_changing_the_algorithm_retires_the_old_keys_with_grace(make_client: ClientFactory) -> None:
    async with make_client(jwt_algorithm="EdDSA") as client:
        old = (await register(client)).json()["token"]
    async with make_client(jwt_algorithm="RS256") as client:
        fresh = await login(client)
        assert jwt.get_unverified_header(fresh)["alg"] == "RS256"
        assert [k["alg"] for k in await jwks(client)] == ["RS256", "EdDSA"]
        assert await profile_status(client, old) == 200


# --- attacks on the choice of key (RFC 8725 §3.1, §3.10) ---------------------------------


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


async def test_forged_token_with_our_kid_is_refused(make_client: ClientFactory) -> None:
    async with make_client(jwt_algorithm="EdDSA") as client:
        token = (await register(client)).json()["token"]
        claims = jwt.decode(token, options={"verify_signature": False})
        attacker = ed25519.Ed25519PrivateKey.generate()
        forged = jwt.encode(claims, attacker, algorithm="EdDSA", headers={"kid": kid_of(token)})
        assert await profile_status(client, forged) == 401


async def test_algorithm_confusion_with_the_public_key_as_hmac_secret(make_client: ClientFactory) -> None:
    """The classic swap: sign HS256 with the published public key as the secret."""
    async with make_client(jwt_algorithm="RS256") as client:
        token = (await register(client)).json()["token"]
        claims = jwt.decode(token, options={"verify_signature": False})
        public = jwt.PyJWK((await jwks(client))[0]).key
        pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid_of(token)}).encode())
        body = b64(json.dumps(claims).encode())
        signature = b64(hmac.new(pem, f"{header}.{body}".encode(), hashlib.sha256).digest())
        assert await profile_status(client, f"{header}.{body}.{signature}") == 401


async def test_alg_none_and_embedded_keys_are_refused(make_client: ClientFactory) -> None:
    async with make_client(jwt_algorithm="ES256") as client:
        token = (await register(client)).json()["token"]
        claims = jwt.decode(token, options={"verify_signature": False})
        kid = kid_of(token)
        for alg in ("none", "None", "NONE"):
            header = b64(json.dumps({"alg": alg, "typ": "JWT", "kid": kid}).encode())
            assert await profile_status(client, f"{header}.{b64(json.dumps(claims).encode())}.") == 401
        attacker = ed25519.Ed25519PrivateKey.generate()
        embedded = jwt.algorithms.OKPAlgorithm.to_jwk(attacker.public_key(), as_dict=True)
        for extra in ({"jwk": embedded}, {"jku": "http://127.0.0.1:9/jwks.json"}, {"x5u": "http://127.0.0.1:9/x"}):
            forged = jwt.encode(claims, attacker, algorithm="EdDSA", headers={"kid": "attacker", **extra})
            assert await profile_status(client, forged) == 401
        for kid in ("../../../dev/null", "' OR '1'='1"):
            forged = jwt.encode(claims, attacker, algorithm="EdDSA", headers={"kid": kid})
            assert await profile_status(client, forged) == 401
        for kid_value in (42, None, ["x"], {"kid": kid}):
            header = b64(json.dumps({"alg": "ES256", "typ": "JWT", "kid": kid_value}).encode())
            assert await profile_status(client, f"{header}.{token.split('.', 1)[1]}") == 401
