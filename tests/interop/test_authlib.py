"""authlib's OAuth 2.0 client (`AsyncOAuth2Client`) as an app that signs its users in through a
real authgate: discovery (checked by authlib's metadata validation), the code flow with PKCE
(S256), state and nonce while a browser signs in and consents on the hosted pages, each way of
authenticating the client (client_secret_basic, client_secret_post, and none for a public app),
the ID token checked with joserfc against the JWKS and with authlib's `CodeIDToken`, userinfo,
refresh (`offline_access`), and revocation, after which refreshing is refused. On SQLite and
PostgreSQL, one server each (conftest.py)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

import httpx2
import pytest
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError
from authlib.oidc import rpinitiated
from authlib.oidc.core import CodeIDToken
from authlib.oidc.discovery import OpenIDProviderMetadata
from joserfc.errors import ClaimError

from tests.support.http import bearer
from tests.support.provider_flow import APP, follow_to_app, query_of
from tests.support.provider_server import RunningProvider, verified_jwt
from tests.support.server import PATIENCE

SCOPES = ["openid", "email", "profile", "offline_access"]


async def _discovered(rp: AsyncOAuth2Client, issuer: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The provider's metadata, valid as authlib reads OpenID Connect Discovery (and RP-initiated
    logout's `end_session_endpoint`), and its JWKS, as the app fetches them (without a token)."""
    answer = await rp.request("GET", f"{issuer}/.well-known/openid-configuration", withhold_token=True)
    assert answer.status_code == 200, answer.text
    document: dict[str, Any] = answer.json()
    OpenIDProviderMetadata(document).validate(metadata_classes=[rpinitiated.OpenIDProviderMetadata])
    assert document["issuer"] == issuer
    jwks: dict[str, Any] = (await rp.request("GET", document["jwks_uri"], withhold_token=True)).json()
    return document, jwks


def _id_token_claims(
    jwks: dict[str, Any], token: dict[str, Any], *, issuer: str, client_id: str, nonce: str | None
) -> dict[str, Any]:
    """The ID token of `token`, its signature checked by joserfc and its claims by authlib (iss,
    aud, exp, iat, nonce, azp, at_hash); a claim that did not match would be refused."""
    header, claims = verified_jwt(jwks, token["id_token"])
    options: dict[str, Any] = {
        "iss": {"essential": True, "value": issuer},
        "aud": {"essential": True, "value": client_id},
        "sub": {"essential": True},
    }
    params = {"nonce": nonce, "client_id": client_id, "access_token": token["access_token"]}
    CodeIDToken(claims, header, options=options, params=params).validate()
    assert claims["at_hash"] and claims["azp"] == client_id
    # The checks are real: the same token fails them for another nonce, app or access token.
    for wrong_options, wrong_params in (
        ({}, {"nonce": "another-nonce"}),
        ({"aud": {"essential": True, "value": "another-app"}}, {}),
        ({}, {"access_token": "another-access-token"}),
    ):
        with pytest.raises(ClaimError):
            CodeIDToken(claims, header, {**options, **wrong_options}, {**params, **wrong_params}).validate()
    return claims


def _sent_credentials(request: httpx2.Request) -> str:
    """How a request authenticated the client: client_secret_basic, client_secret_post or none."""
    form = parse_qs(request.content.decode())
    if request.headers.get("authorization", "").startswith("Basic "):
        assert "client_secret" not in form
        return "client_secret_basic"
    return "client_secret_post" if "client_secret" in form else "none"


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post", "none"])
async def test_an_app_signs_a_user_in_refreshes_and_revokes(provider: RunningProvider, method: str) -> None:
    public = method == "none"
    app = provider.new_client(scopes=SCOPES, public=public)
    assert ("clientSecret" in app) is not public
    email = provider.new_user()
    sent: list[httpx2.Request] = []

    async def record(request: httpx2.Request) -> None:
        sent.append(request)

    rp = AsyncOAuth2Client(
        client_id=app["clientId"],
        client_secret=app.get("clientSecret"),
        token_endpoint_auth_method=method,
        revocation_endpoint_auth_method=method,
        scope=" ".join(SCOPES),
        redirect_uri=APP,
        code_challenge_method="S256",
        event_hooks={"request": [record]},
        timeout=PATIENCE,
    )
    async with rp, provider.browser() as browser:
        document, jwks = await _discovered(rp, provider.issuer)
        assert method in document["token_endpoint_auth_methods_supported"]
        assert method in document["revocation_endpoint_auth_methods_supported"]
        assert "S256" in document["code_challenge_methods_supported"]

        # The app sends the browser to authorize; the browser signs in and allows the app.
        verifier, nonce = generate_token(64), generate_token(24)
        url, state = rp.create_authorization_url(
            document["authorization_endpoint"], code_verifier=verifier, nonce=nonce
        )
        assert "code_challenge_method=S256" in url and f"nonce={nonce}" in url
        callback = await follow_to_app(browser, url, email=email)
        assert callback.startswith(APP + "?")
        back = query_of(callback)
        assert back["state"] == state and back["iss"] == document["issuer"]

        # The code for tokens: authlib checks the state; the ID token is checked here.
        token = await rp.fetch_token(
            document["token_endpoint"], authorization_response=callback, state=state, code_verifier=verifier
        )
        exchange = sent[-1]
        assert exchange.url == document["token_endpoint"] and _sent_credentials(exchange) == method
        assert parse_qs(exchange.content.decode())["code_verifier"] == [verifier]
        assert token["token_type"] == "Bearer" and set(token["scope"].split()) == set(SCOPES)
        assert token["refresh_token"] and token["expires_at"]
        claims = _id_token_claims(jwks, token, issuer=provider.issuer, client_id=app["clientId"], nonce=nonce)
        assert claims["email"] == email and claims["email_verified"] is False

        info = await rp.get(document["userinfo_endpoint"])
        assert info.status_code == 200, info.text
        assert info.json()["sub"] == claims["sub"] and info.json()["email"] == email

        # Refresh (offline_access): a new pair, the same sign-in behind it.
        refreshed = await rp.refresh_token(document["token_endpoint"])
        assert _sent_credentials(sent[-1]) == method
        assert refreshed["refresh_token"] != token["refresh_token"]
        again = _id_token_claims(jwks, refreshed, issuer=provider.issuer, client_id=app["clientId"], nonce=None)
        assert "nonce" not in again
        assert {k: again[k] for k in ("sub", "auth_time", "sid")} == {k: claims[k] for k in ("sub", "auth_time", "sid")}

        # Revocation ends the grant: the refresh token is refused, its access token too.
        revoked = await rp.revoke_token(
            document["revocation_endpoint"], token=refreshed["refresh_token"], token_type_hint="refresh_token"
        )
        assert revoked.status_code == 200, revoked.text
        assert _sent_credentials(sent[-1]) == method
        with pytest.raises(OAuthError) as refused:
            await rp.refresh_token(document["token_endpoint"], refresh_token=refreshed["refresh_token"])
        assert refused.value.error == "invalid_grant"
        gone = await rp.request(
            "GET", document["userinfo_endpoint"], withhold_token=True, headers=bearer(refreshed["access_token"])
        )
        assert gone.status_code == 401 and gone.headers["www-authenticate"] == 'Bearer error="invalid_token"'
