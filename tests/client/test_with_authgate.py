"""HS256 end to end: tokens issued by a real authgate app, checked by a small FastAPI service
that uses authgate.client, both driven over HTTP."""

from __future__ import annotations

import base64
import time
from typing import Any

import httpx
import jwt
import pytest
from fastapi import Depends, FastAPI

from authgate.client import TokenVerifier, require_authenticated, require_caps
from tests.support.app import TEST_SECRET
from tests.support.client_service import assert_problem, calling, fastapi_service
from tests.support.http import admin_token, bearer, register
from tests.support.mfa import enrol, mfa_token

ISSUER = "http://testserver"  # the fixtures' AUTHGATE_PUBLIC_URL


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


NONE_HEADER = b64(b'{"alg":"none","typ":"JWT"}')


async def user_token(client: httpx.AsyncClient, email: str = "ada@example.com") -> str:
    token: str = (await register(client, email=email)).json()["token"]
    return token


def resigned(token: str, secret: str = TEST_SECRET, **changes: Any) -> str:
    """The token's claims with `changes`, signed again as authgate would (or with another secret)."""
    claims = {**jwt.decode(token, options={"verify_signature": False}), **changes}
    return jwt.encode(claims, secret, algorithm="HS256", headers=jwt.get_unverified_header(token))


async def test_the_documented_snippet_works_as_written(client: httpx.AsyncClient) -> None:
    JWT_SECRET = TEST_SECRET  # as the service's settings would name it

    verifier = TokenVerifier(secret=JWT_SECRET)
    app = FastAPI()

    @app.get("/api/profile")
    async def profile(claims=Depends(require_authenticated(verifier))):
        return {"id": claims["sub"], "email": claims["email"]}

    @app.delete("/api/things/{id}")
    async def delete_thing(id: str, claims=Depends(require_caps(verifier, "things:write"))): ...

    registered = (await register(client, email="snippet@example.com")).json()
    admin = await admin_token(client)
    async with verifier, calling(app) as service:
        response = await service.get("/api/profile", headers=bearer(registered["token"]))
        assert response.status_code == 200, response.text
        assert response.json() == {"id": registered["user"]["id"], "email": "snippet@example.com"}
        # With no setup at all, refusals still have the right status and challenge.
        missing = await service.get("/api/profile")
        assert missing.status_code == 401 and missing.headers["www-authenticate"] == 'Bearer realm="authgate"'
        assert missing.json() == {"detail": "Authentication is required."}
        garbage = await service.get("/api/profile", headers=bearer("junk"))
        assert garbage.status_code == 401
        assert garbage.headers["www-authenticate"] == 'Bearer realm="authgate", error="invalid_token"'
        refused = await service.delete("/api/things/1", headers=bearer(registered["token"]))
        assert refused.status_code == 403
        assert (
            refused.headers["www-authenticate"]
            == 'Bearer realm="authgate", error="insufficient_scope", scope="things:write"'
        )
        assert (await service.delete("/api/things/1", headers=bearer(admin))).status_code == 200


def refusals() -> list[tuple[str, Any]]:
    """(what, how to make the Authorization header from a valid token) for tokens that must fail.
    Times are read when the header is made, not when the tests are collected: a run may reach
    a test many minutes after collecting it."""
    return [
        ("missing", lambda t: {}),
        ("empty bearer", lambda t: {"Authorization": "Bearer "}),
        ("garbage", lambda t: bearer("junk")),
        ("three garbage parts", lambda t: bearer("a.b.c")),
        ("huge", lambda t: bearer("x" * 10_000)),
        ("basic scheme", lambda t: {"Authorization": "Basic dXNlcjpwYXNz"}),
        ("forged with another secret", lambda t: bearer(resigned(t, "another-secret-that-is-long-enough-0123"))),
        ("tampered payload", lambda t: bearer(t.split(".")[0] + "." + b64(b'{"sub":"x"}') + "." + t.split(".")[2])),
        ("wrong audience", lambda t: bearer(resigned(t, aud="another-service"))),
        ("wrong issuer", lambda t: bearer(resigned(t, iss="https://evil.example"))),
        ("not an access token", lambda t: bearer(resigned(t, purpose="reset"))),
        (
            "no purpose",
            lambda t: bearer(
                jwt.encode(
                    {k: v for k, v in jwt.decode(t, options={"verify_signature": False}).items() if k != "purpose"},
                    TEST_SECRET,
                    algorithm="HS256",
                )
            ),
        ),
        (
            "no exp",
            lambda t: bearer(
                jwt.encode(
                    {k: v for k, v in jwt.decode(t, options={"verify_signature": False}).items() if k != "exp"},
                    TEST_SECRET,
                    algorithm="HS256",
                )
            ),
        ),
        ("alg none", lambda t: bearer(f"{NONE_HEADER}.{t.split('.')[1]}.")),
        ("not yet valid", lambda t: bearer(resigned(t, nbf=int(time.time()) + 600))),
    ]


@pytest.mark.parametrize(("what", "authorization"), refusals(), ids=[r[0] for r in refusals()])
async def test_bad_tokens_are_refused_with_the_problem(
    client: httpx.AsyncClient, what: str, authorization: Any
) -> None:
    token = await user_token(client)
    async with (
        TokenVerifier(secret=TEST_SECRET, issuer=ISSUER) as verifier,
        calling(fastapi_service(verifier)) as service,
    ):
        assert (await service.get("/api/profile", headers=bearer(token))).status_code == 200
        assert_problem(await service.get("/api/profile", headers=authorization(token)), 401, "invalid_token")


async def test_expired_token_says_expired(client: httpx.AsyncClient) -> None:
    token = await user_token(client)
    expired = resigned(token, iat=int(time.time()) - 3600, exp=int(time.time()) - 1)
    async with (
        TokenVerifier(secret=TEST_SECRET, issuer=ISSUER) as verifier,
        calling(fastapi_service(verifier)) as service,
    ):
        body = assert_problem(await service.get("/api/profile", headers=bearer(expired)), 401, "token_expired")
        assert body["detail"] == "The token has expired."


async def test_authgates_other_tokens_are_refused(client: httpx.AsyncClient) -> None:
    account = await enrol(client)
    login = (await client.post("/login", json=account.login_body(mfaCode=await account.app.code()))).json()
    others = {"mfa token": await mfa_token(client, account), "refresh token": login["refreshToken"]}
    async with (
        TokenVerifier(secret=TEST_SECRET, issuer=ISSUER) as verifier,
        calling(fastapi_service(verifier)) as service,
    ):
        for what, token in others.items():
            body = assert_problem(await service.get("/api/profile", headers=bearer(token)), 401, "invalid_token")
            assert body["detail"], what
        assert (await service.get("/api/profile", headers=bearer(login["token"]))).status_code == 200


async def test_audience_and_issuer_follow_authgates_settings(make_client: Any) -> None:
    async with make_client(jwt_audience="orders", public_url="https://auth.example") as client:
        token = await user_token(client)
    right = TokenVerifier(secret=TEST_SECRET, issuer="https://auth.example", audience="orders")
    default_audience = TokenVerifier(secret=TEST_SECRET)
    other_issuer = TokenVerifier(secret=TEST_SECRET, issuer="https://other.example", audience="orders")
    assert (await right.verify(token)).sub
    for verifier in (default_audience, other_issuer):
        async with calling(fastapi_service(verifier)) as service:
            assert_problem(await service.get("/api/profile", headers=bearer(token)), 401, "invalid_token")


async def test_role_and_capabilities(client: httpx.AsyncClient) -> None:
    user = await user_token(client)
    admin = await admin_token(client)
    created = await client.post("/roles", headers=bearer(admin), json={"name": "support", "caps": ["users:read"]})
    assert created.status_code == 201, created.text
    support = await admin_token(client, email="support@example.com", role="support")
    async with (
        TokenVerifier(secret=TEST_SECRET, issuer=ISSUER) as verifier,
        calling(fastapi_service(verifier)) as service,
    ):
        for path, method in (("/api/admin", "GET"), ("/api/things/1", "DELETE"), ("/api/users", "GET")):
            assert_problem(await service.request(method, path, headers=bearer(user)), 403, "forbidden")
            assert (await service.request(method, path, headers=bearer(admin))).status_code == 200  # "*" is every cap
        assert (await service.get("/api/users", headers=bearer(support))).status_code == 200
        refused = await service.delete("/api/things/1", headers=bearer(support))
        body = assert_problem(refused, 403, "forbidden")
        assert body["detail"] == "This needs the things:write capability."
        assert refused.headers["www-authenticate"].endswith('scope="things:write"')
        assert_problem(await service.get("/api/admin", headers=bearer(support)), 403, "forbidden")
        assert (await service.get("/api/admin", headers=bearer(admin))).json() == {"role": "admin"}


async def test_cookie_is_read_only_when_enabled(client: httpx.AsyncClient) -> None:
    jar = {"accessToken": await user_token(client)}  # the value of authgate's accessToken cookie
    async with (
        TokenVerifier(secret=TEST_SECRET, issuer=ISSUER) as verifier,
        calling(fastapi_service(verifier)) as service,
    ):
        service.cookies = jar
        assert_problem(await service.get("/api/profile"), 401, "invalid_token")
    admin = await admin_token(client)
    admin_jar = {"accessToken": admin}
    async with (
        TokenVerifier(secret=TEST_SECRET, issuer=ISSUER, cookie_name="accessToken") as verifier,
        calling(fastapi_service(verifier)) as service,
    ):
        service.cookies = jar
        assert (await service.get("/api/profile")).status_code == 200
        assert (
            await service.get("/api/profile", headers={"Sec-Fetch-Site": "cross-site"})
        ).status_code == 200  # a read
        # a Bearer header wins over the cookie
        assert_problem(await service.get("/api/profile", headers=bearer("junk")), 401, "invalid_token")
        service.cookies = admin_jar
        for site in ("cross-site", "same-site"):
            refused = await service.delete("/api/things/1", headers={"Sec-Fetch-Site": site})
            body = assert_problem(refused, 403, "forbidden")
            assert "CSRF" in body["detail"]
        assert (await service.delete("/api/things/1", headers={"Sec-Fetch-Site": "same-origin"})).status_code == 200
        assert (await service.delete("/api/things/1")).status_code == 200  # not a browser
        # the same request with the token in a header is not a CSRF risk
        service.cookies = httpx.Cookies()
        cross = await service.delete("/api/things/1", headers={**bearer(admin), "Sec-Fetch-Site": "cross-site"})
        assert cross.status_code == 200


async def test_a_trusted_web_apps_cookie_changes_pass_and_others_do_not(client: httpx.AsyncClient) -> None:
    """The SPA on app.example.com calls the API on api.example.com with the shared cookie: its
    changes carry `Sec-Fetch-Site: same-site` and its `Origin`, which the service trusts; a
    page on another subdomain, or a request without an Origin, is still refused."""
    admin = {"accessToken": await admin_token(client)}
    async with (
        TokenVerifier(
            secret=TEST_SECRET,
            issuer=ISSUER,
            cookie_name="accessToken",
            trusted_origins=["HTTPS://App.Example.com:443/"],
        ) as verifier,
        calling(fastapi_service(verifier)) as service,
    ):
        service.cookies = admin
        same_site = {"Sec-Fetch-Site": "same-site"}
        ok = await service.delete("/api/things/1", headers={**same_site, "Origin": "https://app.example.com"})
        assert ok.status_code == 200, ok.text
        for origin in ("https://evil.example.com", "http://app.example.com", "https://app.example.com.evil.io", "null"):
            refused = await service.delete("/api/things/1", headers={**same_site, "Origin": origin})
            assert_problem(refused, 403, "forbidden")
        assert_problem(await service.delete("/api/things/1", headers=same_site), 403, "forbidden")


@pytest.mark.parametrize(
    "entry", ["https://*.example.com", "https://app.example.com/path", "app.example.com", "ftp://x"]
)
def test_trusted_origins_must_be_exact_origins(entry: str) -> None:
    with pytest.raises(ValueError, match="not an origin"):
        TokenVerifier(secret=TEST_SECRET, cookie_name="accessToken", trusted_origins=[entry])
