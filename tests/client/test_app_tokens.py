"""Access tokens authgate gave to apps, against a real key server: refused by default; with
`accept_client_tokens`, checked (key, `typ` and `purpose` together, `iss`, `aud`, `exp`,
`client_id`, `scope`) beside authgate's own tokens; their client and scopes through `Claims`,
`require_scopes`, the middleware and introspection."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from fastapi import Depends, FastAPI
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from authgate.client import (
    AuthgateError,
    AuthgateMiddleware,
    Claims,
    TokenVerifier,
    problem_response,
    require_authenticated,
    require_scopes,
)
from tests.support.app import TEST_SECRET
from tests.support.client_service import assert_problem, calling, fastapi_service
from tests.support.client_stub import (
    APP_ID,
    APP_TYP,
    CLIENT_ID,
    CLIENT_SECRET,
    INTROSPECT_PATH,
    ISSUER,
    JWKS_PATH,
    AuthgateStub,
    SigningKey,
    access_claims,
    app_access_claims,
    b64,
    hs256_token,
    make_key,
)
from tests.support.http import bearer

API = "https://api.example.com"  # an audience both kinds of token may name (see the scopes service)


def app_verifier(stub: AuthgateStub, audience: str = APP_ID, **options: Any) -> TokenVerifier:
    return TokenVerifier(jwks_url=stub.jwks_url, issuer=ISSUER, audience=audience, accept_client_tokens=True, **options)


def app_token(key: SigningKey, **claims: Any) -> str:
    return key.sign(app_access_claims(**claims), typ=APP_TYP)


async def refused(verifier: TokenVerifier, token: str) -> AuthgateError:
    with pytest.raises(AuthgateError) as caught:
        await verifier.verify(token)
    return caught.value


def without(claims: dict[str, Any], name: str) -> dict[str, Any]:
    return {k: v for k, v in claims.items() if k != name}


# --- off by default ---------------------------------------------------------------------------------


async def test_a_default_verifier_refuses_app_tokens(authgate_stub: AuthgateStub) -> None:
    key = make_key("RS256")
    authgate_stub.publish(key)
    token = app_token(key)
    # Even a verifier whose audience is the app's: taking them is a choice the service makes.
    for audience in ("authgate", APP_ID):
        fetches = authgate_stub.hits[JWKS_PATH]
        async with TokenVerifier(jwks_url=authgate_stub.jwks_url, issuer=ISSUER, audience=audience) as verifier:
            assert not verifier.accept_client_tokens
            error = await refused(verifier, token)
            assert (error.status, error.code) == (401, "invalid_token")
            assert error.detail == "Tokens authgate gave to apps are not accepted here."
            async with calling(fastapi_service(verifier)) as service:
                assert_problem(await service.get("/api/profile", headers=bearer(token)), 401, "invalid_token")
            # Refused on its header, before any key is fetched for it.
            assert authgate_stub.hits[JWKS_PATH] == fetches
            # The same token's claims under authgate's own `typ` are no access token either.
            assert (await refused(verifier, key.sign(app_access_claims()))).code == "invalid_token"


async def test_a_secret_verifier_cannot_take_app_tokens() -> None:
    with pytest.raises(ValueError, match="accept_client_tokens"):
        TokenVerifier(secret=TEST_SECRET, accept_client_tokens=True)
    # ... and refuses one made with its secret (authgate never does), whatever its audience.
    verifier = TokenVerifier(secret=TEST_SECRET, audience=APP_ID)
    token = jwt.encode(app_access_claims(), TEST_SECRET, algorithm="HS256", headers={"typ": APP_TYP})
    assert (await refused(verifier, token)).code == "invalid_token"


# --- accepted with the flag -------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["RS256", "EdDSA"])
async def test_an_app_token_passes_with_its_client_and_scopes(authgate_stub: AuthgateStub, algorithm: str) -> None:
    key = make_key(algorithm)
    authgate_stub.publish(key)
    async with app_verifier(authgate_stub) as verifier:
        claims = await verifier.verify(app_token(key, email="ada@example.com"))
    assert claims.is_client_token and claims.client_id == APP_ID
    assert claims.scopes == ("openid", "billing:read")
    assert claims.has_scopes("billing:read") and claims.has_scopes("openid", "billing:read")
    assert not claims.has_scopes("billing:write") and not claims.has_scopes("billing:read", "billing:write")
    assert (claims.sub, claims.sid, claims.email, claims.amr) == ("user-1", "session-1", "ada@example.com", ("pwd",))
    assert claims.exp > time.time() and claims["gid"] == "grant-1" and claims["aud"] == APP_ID
    # A third-party app's token carries no role or capability: checks of them fail, safely.
    assert (claims.role, claims.caps) == (None, ())
    assert not claims.has_role("user", "admin") and not claims.has_caps("things:read")
    assert repr(claims) == f"Claims(sub='user-1', role=None, client_id='{APP_ID}')"
    assert "ada@example.com" not in repr(claims)


async def test_typ_is_read_whatever_its_case(authgate_stub: AuthgateStub) -> None:
    key = make_key("RS256")
    authgate_stub.publish(key)
    async with app_verifier(authgate_stub) as verifier:
        for typ in ("AT+JWT", "At+Jwt"):
            assert (await verifier.verify(key.sign(app_access_claims(), typ=typ))).client_id == APP_ID


async def test_an_app_token_for_itself_names_no_user(authgate_stub: AuthgateStub) -> None:
    """Client credentials: `sub` is the app, and there is no session, sign-in or grant."""
    key = make_key("RS256")
    authgate_stub.publish(key)
    claims = without(without(without(without(app_access_claims(sub=APP_ID), "sid"), "amr"), "gid"), "auth_time")
    async with app_verifier(authgate_stub) as verifier:
        for_itself = await verifier.verify(key.sign({**claims, "scope": "billing:read billing:write"}, typ=APP_TYP))
        assert for_itself.sub == for_itself.client_id == APP_ID
        assert (for_itself.sid, for_itself.amr, for_itself.role, for_itself.caps) == (None, (), None, ())
        assert for_itself.scopes == ("billing:read", "billing:write")
        # An app granted no scope at all gets an empty `scope`: it passes, with no scopes.
        assert (await verifier.verify(key.sign({**claims, "scope": ""}, typ=APP_TYP))).scopes == ()


async def test_a_first_party_apps_token_carries_the_users_role_and_caps(authgate_stub: AuthgateStub) -> None:
    key = make_key("RS256")
    authgate_stub.publish(key)
    async with app_verifier(authgate_stub) as verifier:
        claims = await verifier.verify(app_token(key, role="support", caps=["users:read"]))
    assert claims.role == "support" and claims.has_role("support") and claims.has_caps("users:read")
    assert claims.client_id == APP_ID and claims.scopes == ("openid", "billing:read")


async def test_the_audience_is_the_apps_own_when_it_names_one(authgate_stub: AuthgateStub) -> None:
    """An app registered with its own access-token audience: the verifier names that."""
    key = make_key("RS256")
    authgate_stub.publish(key)
    billing = "https://billing.example.com"
    async with app_verifier(authgate_stub, audience=billing) as verifier:
        assert (await verifier.verify(app_token(key, aud=billing))).client_id == APP_ID
        assert (await verifier.verify(app_token(key, aud=[billing, "another"]))).client_id == APP_ID
        assert (await refused(verifier, app_token(key))).code == "invalid_token"  # aud: the client id


@pytest.mark.parametrize(
    ("what", "typ", "claims", "code"),
    [
        ("another app's audience", APP_TYP, lambda: app_access_claims(aud="app-other"), "invalid_token"),
        ("authgate's own audience", APP_TYP, lambda: app_access_claims(aud="authgate"), "invalid_token"),
        ("no audience", APP_TYP, lambda: without(app_access_claims(), "aud"), "invalid_token"),
        ("another issuer", APP_TYP, lambda: app_access_claims(iss="https://evil.example"), "invalid_token"),
        ("no issuer", APP_TYP, lambda: without(app_access_claims(), "iss"), "invalid_token"),
        ("expired", APP_TYP, lambda: app_access_claims(exp=int(time.time()) - 1), "token_expired"),
        ("no expiry", APP_TYP, lambda: without(app_access_claims(), "exp"), "invalid_token"),
        ("at+jwt with authgate's own purpose", APP_TYP, lambda: app_access_claims(purpose="access"), "invalid_token"),
        ("authgate's own token as at+jwt", APP_TYP, lambda: access_claims(aud=APP_ID), "invalid_token"),
        ("an app's purpose under typ JWT", "JWT", lambda: app_access_claims(), "invalid_token"),
        ("an app's purpose with no typ", None, lambda: app_access_claims(), "invalid_token"),
        ("another purpose", APP_TYP, lambda: app_access_claims(purpose="mfa"), "invalid_token"),
        ("no purpose", APP_TYP, lambda: without(app_access_claims(), "purpose"), "invalid_token"),
        ("no client_id", APP_TYP, lambda: without(app_access_claims(), "client_id"), "invalid_token"),
        ("an empty client_id", APP_TYP, lambda: app_access_claims(client_id=""), "invalid_token"),
        ("a client_id that is no string", APP_TYP, lambda: app_access_claims(client_id=7), "invalid_token"),
        ("no scope", APP_TYP, lambda: without(app_access_claims(), "scope"), "invalid_token"),
        ("a scope that is a list", APP_TYP, lambda: app_access_claims(scope=["billing:read"]), "invalid_token"),
        ("no subject", APP_TYP, lambda: without(app_access_claims(), "sub"), "invalid_token"),
        ("a role that is no string", APP_TYP, lambda: app_access_claims(role=["admin"]), "invalid_token"),
        ("caps that are no list", APP_TYP, lambda: app_access_claims(caps="*"), "invalid_token"),
    ],
)
async def test_app_tokens_are_checked(
    authgate_stub: AuthgateStub, what: str, typ: str | None, claims: Callable[[], dict[str, Any]], code: str
) -> None:
    """The claims are made when the test runs (their times are read then, not at collection)."""
    key = make_key("RS256")
    authgate_stub.publish(key)
    token = jwt.encode(claims(), key.private, algorithm="RS256", headers={"kid": key.kid, "typ": typ})  # None: no typ
    assert jwt.get_unverified_header(token).get("typ") == typ, what
    async with app_verifier(authgate_stub) as verifier:
        error = await refused(verifier, token)
    assert (error.status, error.code) == (401, code), what


async def test_keys_and_algorithms_are_checked_as_for_authgates_own_tokens(authgate_stub: AuthgateStub) -> None:
    key = make_key("RS256")
    authgate_stub.publish(key)
    claims = app_access_claims()
    forged = make_key("RS256")
    forged.kid = key.kid  # same kid, another private key
    tokens = [
        forged.sign(claims, typ=APP_TYP),
        make_key("RS256").sign(claims, typ=APP_TYP),  # a key authgate does not publish
        hs256_token(key.public_pem, {"alg": "HS256", "typ": APP_TYP, "kid": key.kid}, claims),  # public key as secret
        f"{b64({'alg': 'none', 'typ': APP_TYP, 'kid': key.kid})}.{b64(claims)}.",
        jwt.encode(claims, key.private, algorithm="PS256", headers={"kid": key.kid, "typ": APP_TYP}),
    ]
    async with app_verifier(authgate_stub, jwks_refetch_interval=0) as verifier:
        for token in tokens:
            assert (await refused(verifier, token)).code == "invalid_token", jwt.get_unverified_header(token)
        assert (await verifier.verify(key.sign(claims, typ=APP_TYP))).client_id == APP_ID


async def test_authgates_own_tokens_still_pass_beside_app_tokens(authgate_stub: AuthgateStub) -> None:
    """One verifier, one audience: authgate's own tokens pass as before, and carry no client or
    scopes, even when a claim of that name was slipped into one."""
    key = make_key("EdDSA")
    authgate_stub.publish(key)
    async with app_verifier(authgate_stub, audience="authgate") as verifier:
        own = await verifier.verify(key.sign(access_claims(caps=["users:read"])))
        assert not own.is_client_token and (own.client_id, own.scopes) == (None, ())
        assert own.has_caps("users:read") and not own.has_scopes("openid")
        assert repr(own) == "Claims(sub='user-1', role='user')"
        smuggled = await verifier.verify(key.sign(access_claims(scope="billing:read", client_id=APP_ID)))
        assert (smuggled.client_id, smuggled.scopes) == (None, ())
        assert not smuggled.has_scopes("billing:read")
        # An app registered with authgate's audience as its own: the one verifier takes both.
        assert (await verifier.verify(app_token(key, aud="authgate"))).is_client_token


# --- require_scopes ---------------------------------------------------------------------------------


def scopes_service(verifier: TokenVerifier, *, problems: bool = True) -> FastAPI:
    app = FastAPI()
    if problems:
        app.add_exception_handler(AuthgateError, problem_response)

    @app.get("/api/invoices")
    async def invoices(claims: Claims = Depends(require_scopes(verifier, "billing:read"))) -> dict[str, Any]:
        return {"client": claims.client_id, "sub": claims.sub, "scopes": list(claims.scopes)}

    @app.post("/api/invoices")
    async def new_invoice(
        claims: Claims = Depends(require_scopes(verifier, "billing:read", "billing:write")),
    ) -> dict[str, Any]:
        return {"by": claims.client_id}

    @app.get("/api/me")
    async def me(claims: Claims = Depends(require_authenticated(verifier))) -> dict[str, Any]:
        return {"sub": claims.sub, "client": claims.client_id}

    return app


async def test_require_scopes(authgate_stub: AuthgateStub) -> None:
    """An API whose audience authgate's own tokens (its AUTHGATE_JWT_AUDIENCE) and the apps'
    (their access-token audience) both name."""
    key = make_key("RS256")
    authgate_stub.publish(key)
    reader = app_token(key, aud=API)
    writer = app_token(key, aud=API, scope="billing:read billing:write")
    signed_in_only = app_token(key, aud=API, scope="openid profile")
    own = key.sign(access_claims(aud=API, role="admin", caps=["*"]))
    async with app_verifier(authgate_stub, audience=API) as verifier, calling(scopes_service(verifier)) as service:
        missing = assert_problem(await service.get("/api/invoices"), 401, "invalid_token")
        assert missing["detail"] == "Authentication is required."
        assert_problem(await service.get("/api/invoices", headers=bearer("junk")), 401, "invalid_token")
        expired = app_token(key, aud=API, exp=int(time.time()) - 1)
        assert_problem(await service.get("/api/invoices", headers=bearer(expired)), 401, "token_expired")

        response = await service.get("/api/invoices", headers=bearer(reader))
        assert response.status_code == 200, response.text
        assert response.json() == {"client": APP_ID, "sub": "user-1", "scopes": ["openid", "billing:read"]}
        assert (await service.post("/api/invoices", headers=bearer(writer))).json() == {"by": APP_ID}

        short = await service.post("/api/invoices", headers=bearer(reader))
        body = assert_problem(short, 403, "forbidden")
        assert body["detail"] == "This needs the billing:read, billing:write scope."
        assert short.headers["www-authenticate"] == (
            'Bearer realm="authgate", error="insufficient_scope", scope="billing:read billing:write"'
        )
        assert_problem(await service.get("/api/invoices", headers=bearer(signed_in_only)), 403, "forbidden")
        # authgate's own tokens carry capabilities, not scopes: even an admin's does not pass ...
        assert_problem(await service.get("/api/invoices", headers=bearer(own)), 403, "forbidden")
        # ... though it is a valid token for the routes that ask for no scope.
        assert (await service.get("/api/me", headers=bearer(own))).json() == {"sub": "user-1", "client": None}
        assert (await service.get("/api/me", headers=bearer(reader))).json() == {"sub": "user-1", "client": APP_ID}

        schema = (await service.get("/openapi.json")).json()
        assert schema["paths"]["/api/invoices"]["post"]["security"] == [{"authgate": []}]


async def test_require_scopes_without_the_problem_handler(authgate_stub: AuthgateStub) -> None:
    key = make_key("RS256")
    authgate_stub.publish(key)
    async with (
        app_verifier(authgate_stub) as verifier,
        calling(scopes_service(verifier, problems=False)) as service,
    ):
        refused_write = await service.post("/api/invoices", headers=bearer(app_token(key)))
        assert refused_write.status_code == 403
        assert refused_write.json() == {"detail": "This needs the billing:read, billing:write scope."}
        assert 'scope="billing:read billing:write"' in refused_write.headers["www-authenticate"]


def test_require_scopes_is_refused_a_setup_that_could_never_pass() -> None:
    verifier = TokenVerifier(jwks_url="https://auth.example/.well-known/jwks.json", accept_client_tokens=True)
    for bad in ((), ("billing read",), ("",), ('billing"read',), ("billing:read", "a\\b")):
        with pytest.raises(ValueError):
            require_scopes(verifier, *bad)
    # authgate's own tokens carry no scopes: without app tokens, nothing could ever pass.
    with pytest.raises(ValueError, match="accept_client_tokens"):
        require_scopes(TokenVerifier(jwks_url="https://auth.example/.well-known/jwks.json"), "billing:read")


# --- the middleware and introspection ---------------------------------------------------------------


async def test_the_middleware_passes_app_tokens_with_their_claims(authgate_stub: AuthgateStub) -> None:
    key = make_key("EdDSA")
    authgate_stub.publish(key)

    async def whoami(request: Request) -> JSONResponse:
        claims: Claims = request.state.authgate_claims
        return JSONResponse({"client": claims.client_id, "scopes": list(claims.scopes)})

    async with app_verifier(authgate_stub) as verifier:
        guard = Middleware(AuthgateMiddleware, verifier=verifier)
        app = Starlette(routes=[Route("/whoami", whoami)], middleware=[guard])
        async with calling(app) as service:
            response = await service.get("/whoami", headers=bearer(app_token(key)))
            assert response.json() == {"client": APP_ID, "scopes": ["openid", "billing:read"]}
            assert_problem(await service.get("/whoami", headers=bearer(app_token(key, aud="x"))), 401, "invalid_token")


async def test_introspection_asks_about_app_tokens_too(authgate_stub: AuthgateStub) -> None:
    key = make_key("RS256")
    authgate_stub.publish(key)
    live = app_token(key)
    for_itself = key.sign(without(app_access_claims(sub=APP_ID), "sid"), typ=APP_TYP)
    revoked = app_token(key)
    authgate_stub.active.update({live, for_itself})
    introspecting = app_verifier(
        authgate_stub,
        introspection_url=authgate_stub.introspect_url,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        introspection_cache_seconds=0,
    )
    async with introspecting as verifier, calling(scopes_service(verifier)) as service:
        assert (await service.get("/api/invoices", headers=bearer(live))).status_code == 200
        assert (await service.get("/api/invoices", headers=bearer(for_itself))).json()["sub"] == APP_ID
        body = assert_problem(await service.get("/api/invoices", headers=bearer(revoked)), 401, "invalid_token")
        assert body["detail"] == "The token has been revoked."
        # A token that fails locally is never sent.
        assert_problem(
            await service.get("/api/invoices", headers=bearer(app_token(key, aud="x"))), 401, "invalid_token"
        )
    assert [form["token"] for form in authgate_stub.introspected] == [[live], [for_itself], [revoked]]
    assert authgate_stub.hits[INTROSPECT_PATH] == 3
