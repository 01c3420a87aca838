"""JWKS mode and introspection end to end: a real authgate app signing with EdDSA, ES256 or
RS256 publishes its keys and answers introspection; a service using authgate.client fetches
them through an httpx client bound to that app."""

from __future__ import annotations

import asyncio
import time

import httpx
import jwt
import pytest

from authgate.client import TokenVerifier
from authgate.runtime import key_ring as keys
from authgate.services import service_credentials
from tests.support.app import TEST_SECRET, ClientFactory, runtime
from tests.support.client_service import assert_problem, calling, fastapi_service
from tests.support.http import admin_token, bearer, register

ISSUER = "http://testserver"
JWKS_URL = "http://testserver/.well-known/jwks.json"


def jwks_verifier(authgate: httpx.AsyncClient, **options: object) -> TokenVerifier:
    return TokenVerifier(jwks_url=JWKS_URL, issuer=ISSUER, http_client=authgate, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize("algorithm", ["EdDSA", "ES256", "RS256"])
async def test_tokens_of_each_algorithm_verify_with_the_published_keys(
    make_client: ClientFactory, algorithm: str
) -> None:
    async with make_client(jwt_algorithm=algorithm) as authgate:
        registered = (await register(authgate)).json()
        admin = await admin_token(authgate)
        async with jwks_verifier(authgate) as verifier, calling(fastapi_service(verifier)) as service:
            response = await service.get("/api/profile", headers=bearer(registered["token"]))
            assert response.status_code == 200, response.text
            assert response.json()["id"] == registered["user"]["id"]
            assert_problem(await service.delete("/api/things/1", headers=bearer(registered["token"])), 403, "forbidden")
            assert (await service.delete("/api/things/1", headers=bearer(admin))).status_code == 200


async def test_hs256_authgate_publishes_nothing_a_jwks_verifier_could_use(client: httpx.AsyncClient) -> None:
    token = (await register(client)).json()["token"]
    async with jwks_verifier(client) as verifier, calling(fastapi_service(verifier)) as service:
        assert_problem(await service.get("/api/profile", headers=bearer(token)), 401, "invalid_token")


async def test_rotation_old_tokens_pass_through_the_grace_period_only(make_client: ClientFactory) -> None:
    async with make_client(jwt_algorithm="EdDSA") as authgate:
        old = (await register(authgate)).json()["token"]
        async with jwks_verifier(authgate, jwks_refetch_interval=0.1) as verifier:
            assert (await verifier.verify(old)).email == "ada@example.com"
            # A grace of 5 s: time enough on a loaded machine to log in and verify within it.
            rotated = time.monotonic()
            new_kid = await keys.rotate(runtime(authgate), reason="test", grace_seconds=5)
            fresh = (
                await authgate.post("/login", json={"email": "ada@example.com", "password": "Sturdy-Horse-42"})
            ).json()
            assert jwt.get_unverified_header(fresh["token"])["kid"] == new_kid
            await asyncio.sleep(0.15)
            assert (await verifier.verify(fresh["token"])).sub  # an unknown kid: fetched at once
            assert (await verifier.verify(old)).sub  # the retired key is still published
            # Past the grace: authgate's max-age never outlives the retired key.
            await asyncio.sleep(max(0.0, rotated + 5.2 - time.monotonic()))
            async with calling(fastapi_service(verifier)) as service:
                assert_problem(await service.get("/api/profile", headers=bearer(old)), 401, "invalid_token")
                assert (await service.get("/api/profile", headers=bearer(fresh["token"]))).status_code == 200


async def test_introspection_sees_a_logout_at_once(make_client: ClientFactory) -> None:
    async with make_client(jwt_algorithm="ES256") as authgate:
        token = (await register(authgate)).json()["token"]
        credential, secret = await service_credentials.create(runtime(authgate), name="orders")
        async with (
            jwks_verifier(
                authgate,
                introspection_url="http://testserver/token/introspect",
                client_id=credential.id,
                client_secret=secret,
                introspection_cache_seconds=0,
            ) as verifier,
            calling(fastapi_service(verifier)) as service,
        ):
            assert (await service.get("/api/profile", headers=bearer(token))).status_code == 200
            assert (await authgate.post("/api/auth/logout", headers=bearer(token))).status_code in (200, 204)
            body = assert_problem(await service.get("/api/profile", headers=bearer(token)), 401, "invalid_token")
            assert body["detail"] == "The token has been revoked."
        # Without introspection the same token still verifies until it expires.
        async with jwks_verifier(authgate) as local:
            assert (await local.verify(token)).sub


async def test_a_revoked_service_credential_fails_closed(make_client: ClientFactory) -> None:
    async with make_client() as authgate:
        token = (await register(authgate)).json()["token"]
        credential, secret = await service_credentials.create(runtime(authgate), name="orders")
        await service_credentials.revoke(runtime(authgate), credential_id=credential.id)
        verifier = TokenVerifier(
            secret=TEST_SECRET,
            issuer=ISSUER,
            introspection_url="http://testserver/token/introspect",
            client_id=credential.id,
            client_secret=secret,
            http_client=authgate,
        )
        async with verifier, calling(fastapi_service(verifier)) as service:
            assert_problem(await service.get("/api/profile", headers=bearer(token)), 503, "temporarily_unavailable")
