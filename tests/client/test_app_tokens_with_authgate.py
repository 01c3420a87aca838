"""The tokens a real authgate, as OpenID provider, gives an app (client credentials), checked
by a service using authgate.client: its published keys, its issuer, the app's audience, and
introspection seeing the app revoke its token."""

from __future__ import annotations

from typing import Any

import httpx
import jwt
from fastapi import Depends, FastAPI

from authgate.client import AuthgateError, Claims, TokenVerifier, problem_response, require_scopes
from authgate.security.opaque import digest, random_token
from authgate.services import service_credentials
from authgate.storage.models import OAuthClient
from tests.support.app import ClientFactory, runtime
from tests.support.client_service import assert_problem, calling, fastapi_service
from tests.support.http import bearer
from tests.support.provider_flow import ISSUER, provider

JWKS_URL = f"{ISSUER}/.well-known/jwks.json"


async def registered_app(authgate: httpx.AsyncClient, *, audience: str | None = None) -> tuple[str, str]:
    """A confidential app allowed client credentials for the billing scopes: (client id, secret)."""
    secret = random_token(32)
    app = OAuthClient(
        name="Billing sync",
        kind="confidential",
        secret_hash=digest(secret),
        scopes="billing:read billing:write",
        client_credentials=True,
        access_token_audience=audience,
    )
    async with runtime(authgate).uow() as tx:
        tx.db.add(app)
    return app.id, secret


async def app_token(authgate: httpx.AsyncClient, client_id: str, secret: str, scope: str) -> str:
    answer = await authgate.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials", "scope": scope},
        auth=(client_id, secret),
    )
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


def billing_service(verifier: TokenVerifier) -> FastAPI:
    app = FastAPI(exception_handlers={AuthgateError: problem_response})

    @app.get("/api/invoices")
    async def invoices(claims: Claims = Depends(require_scopes(verifier, "billing:read"))) -> dict[str, Any]:
        return {"client": claims.client_id, "sub": claims.sub, "scopes": list(claims.scopes)}

    @app.post("/api/invoices")
    async def new_invoice(claims: Claims = Depends(require_scopes(verifier, "billing:write"))) -> dict[str, Any]:
        return {"by": claims.client_id}

    return app


def verifier_for(authgate: httpx.AsyncClient, audience: str, **options: Any) -> TokenVerifier:
    return TokenVerifier(
        jwks_url=JWKS_URL,
        issuer=ISSUER,
        audience=audience,
        accept_client_tokens=True,
        http_client=authgate,
        **options,
    )


async def test_an_apps_token_passes_the_service_of_its_audience(make_client: ClientFactory) -> None:
    async with provider(make_client) as authgate:
        client_id, secret = await registered_app(authgate)
        token = await app_token(authgate, client_id, secret, "billing:read")
        assert jwt.get_unverified_header(token)["typ"] == "at+jwt"

        async with verifier_for(authgate, client_id) as verifier, calling(billing_service(verifier)) as service:
            response = await service.get("/api/invoices", headers=bearer(token))
            assert response.status_code == 200, response.text
            assert response.json() == {"client": client_id, "sub": client_id, "scopes": ["billing:read"]}
            assert_problem(await service.post("/api/invoices", headers=bearer(token)), 403, "forbidden")
            writer = await app_token(authgate, client_id, secret, "billing:read billing:write")
            assert (await service.post("/api/invoices", headers=bearer(writer))).json() == {"by": client_id}

        # A service that does not take apps' tokens refuses it, whatever its audience.
        async with TokenVerifier(jwks_url=JWKS_URL, issuer=ISSUER, audience=client_id, http_client=authgate) as own:
            async with calling(fastapi_service(own)) as service:
                assert_problem(await service.get("/api/profile", headers=bearer(token)), 401, "invalid_token")


async def test_an_app_with_its_own_audience(make_client: ClientFactory) -> None:
    billing_api = "https://billing.example.com"
    async with provider(make_client) as authgate:
        client_id, secret = await registered_app(authgate, audience=billing_api)
        other_id, other_secret = await registered_app(authgate)
        token = await app_token(authgate, client_id, secret, "billing:read")
        others = await app_token(authgate, other_id, other_secret, "billing:read")
        async with verifier_for(authgate, billing_api) as verifier, calling(billing_service(verifier)) as service:
            assert (await service.get("/api/invoices", headers=bearer(token))).json()["client"] == client_id
            # Another app's token names that app as its audience, not this API.
            assert_problem(await service.get("/api/invoices", headers=bearer(others)), 401, "invalid_token")
        # Nor does a service expecting the app's client id take it.
        async with verifier_for(authgate, client_id) as by_id, calling(billing_service(by_id)) as service:
            assert_problem(await service.get("/api/invoices", headers=bearer(token)), 401, "invalid_token")


async def test_introspection_sees_the_app_revoke_its_token(make_client: ClientFactory) -> None:
    async with provider(make_client) as authgate:
        client_id, secret = await registered_app(authgate)
        token = await app_token(authgate, client_id, secret, "billing:read")
        credential, credential_secret = await service_credentials.create(runtime(authgate), name="billing")
        introspecting = verifier_for(
            authgate,
            client_id,
            introspection_url=f"{ISSUER}/token/introspect",
            client_id=credential.id,
            client_secret=credential_secret,
            introspection_cache_seconds=0,
        )
        async with introspecting as verifier, calling(billing_service(verifier)) as service:
            assert (await service.get("/api/invoices", headers=bearer(token))).status_code == 200
            revoked = await authgate.post("/oauth2/revoke", data={"token": token}, auth=(client_id, secret))
            assert revoked.status_code == 200, revoked.text
            body = assert_problem(await service.get("/api/invoices", headers=bearer(token)), 401, "invalid_token")
            assert body["detail"] == "The token has been revoked."
