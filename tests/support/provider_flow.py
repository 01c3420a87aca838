"""Driving authgate as an OpenID provider in tests: its settings, registering apps, and a
browser's walk through authorize → sign in → consent → the app's redirect, over HTTP."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from tests.support.http import STRONG_PASSWORD, register
from tests.support.ui import BROWSER, csrf_of, submit

ISSUER = "http://localhost"
APP = "https://app.example.com/callback"
PROVIDER = {"oidc_provider": True, "jwt_algorithm": "RS256", "public_url": ISSUER}


@asynccontextmanager
async def provider(make_client: Callable[..., Any], **overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
    """An app with the provider on, reached as the issuer (http://localhost)."""
    async with make_client(**{**PROVIDER, **overrides}) as client:
        client.base_url = httpx.URL(ISSUER)
        yield client


async def admin_token(client: httpx.AsyncClient, email: str = "root@example.com") -> str:
    """Register an account, make it an administrator, sign in: its bearer token."""
    from tests.support.app import runtime
    from tests.support.http import login

    await register(client, email=email)
    rt = runtime(client)
    async with rt.uow() as tx:
        from sqlalchemy import text

        await tx.db.execute(text("UPDATE users SET role = 'admin' WHERE email = :e"), {"e": email})
    signed = await login(client, email)
    return str(signed.json()["accessToken"])


async def new_client(client: httpx.AsyncClient, token: str, **fields: Any) -> dict[str, Any]:
    """Register an app with the admin API; its client object (and `clientSecret`)."""
    body = {"name": "Grafana", "redirectUris": [APP], **fields}
    made = await client.post("/oauth2/clients", json=body, headers={"Authorization": f"Bearer {token}"})
    assert made.status_code == 201, made.text
    result: dict[str, Any] = made.json()
    return result


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def query_of(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def authorize_url(client_id: str, **params: str) -> str:
    query = {"response_type": "code", "client_id": client_id, "redirect_uri": APP, "scope": "openid", **params}
    return "/oauth2/authorize?" + urlencode(query)


async def follow_to_app(
    client: httpx.AsyncClient,
    url: str,
    *,
    email: str = "ada@example.com",
    password: str = STRONG_PASSWORD,
    allow: bool | None = True,
    limit: int = 10,
) -> str:
    """Walk a browser from `url` until it leaves for the app (the URL it is sent to), signing
    in on the hosted page and answering the consent page (`allow`) on the way. The client's
    `base_url` is the issuer: the in-process app's, or a real server's (whose authorization URL,
    as a relying party builds it, is absolute)."""
    issuer = str(client.base_url).rstrip("/")
    for _ in range(limit):
        from_app = urlsplit(url).path == "/oauth2/authorize"  # the app sent the browser here
        answer = await client.get(url, headers={**BROWSER, "Sec-Fetch-Site": "cross-site"} if from_app else BROWSER)
        if answer.status_code in (302, 303):
            target = answer.headers["location"]
            if not (target.startswith("/") or target.startswith(issuer + "/")):
                return target
            url = target
            continue
        assert answer.status_code == 200, (answer.status_code, answer.text[:500])
        path = urlsplit(url).path
        if path == "/ui/login":
            signed = await submit(client, "/ui/login", {"email": email, "password": password}, page=url)
            assert signed.status_code == 303, signed.text[:500]
            url = signed.headers["location"]
        elif path == "/oauth2/consent":
            assert allow is not None, "a consent page was not expected"
            fields = {"request": query_of(url)["request"], "decision": "allow" if allow else "deny"}
            fields["csrf_token"] = csrf_of(answer.text)
            decided = await client.post("/oauth2/consent", data=fields, headers={**BROWSER, "Origin": issuer})
            assert decided.status_code == 303, decided.text[:500]
            return str(decided.headers["location"])
        else:
            raise AssertionError(f"unexpected page {url}")
    raise AssertionError("too many redirects")


async def exchange(
    client: httpx.AsyncClient, app: dict[str, Any], code: str, verifier: str | None = None, **extra: str
) -> httpx.Response:
    """The app's token request for `code` (client_secret_basic, or `client_id` alone for a public app)."""
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": APP, **extra}
    if verifier is not None:
        form["code_verifier"] = verifier
    if "clientSecret" in app:
        return await client.post("/oauth2/token", data=form, auth=(app["clientId"], app["clientSecret"]))
    return await client.post("/oauth2/token", data={**form, "client_id": app["clientId"]})


async def token_request(client: httpx.AsyncClient, app: dict[str, Any], **form: str) -> httpx.Response:
    if "clientSecret" in app:
        return await client.post("/oauth2/token", data=form, auth=(app["clientId"], app["clientSecret"]))
    return await client.post("/oauth2/token", data={**form, "client_id": app["clientId"]})


async def id_claims(client: httpx.AsyncClient, id_token: str) -> dict[str, Any]:
    """The ID token's claims, its RS256 signature checked with joserfc against the JWKS."""
    from joserfc import jwt
    from joserfc.jwk import KeySet

    keys = KeySet.import_key_set((await client.get("/.well-known/jwks.json")).json())
    decoded = jwt.decode(id_token, keys, algorithms=["RS256"])
    assert decoded.header["alg"] == "RS256" and decoded.header["typ"] == "JWT" and decoded.header["kid"]
    return dict(decoded.claims)


async def signed_in_code(
    client: httpx.AsyncClient, app: dict[str, Any], *, allow: bool | None = True, **params: str
) -> tuple[str, str, dict[str, str]]:
    """A whole authorization with PKCE (signing in and consenting as needed): (code, verifier, the
    redirect's query)."""
    verifier, challenge = pkce()
    url = authorize_url(app["clientId"], code_challenge=challenge, code_challenge_method="S256", **params)
    back = query_of(await follow_to_app(client, url, allow=allow))
    assert "code" in back, back
    return back["code"], verifier, back


@asynccontextmanager
async def ready_provider(
    make_client: Callable[..., Any], *, user: dict[str, str] | None = None, **app: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """The provider with an administrator (`client.admin`, a bearer token), Ada (signed out)
    and a third-party app registered with `app`'s fields (`client.app_client`)."""
    async with provider(make_client) as client:
        client.admin = await admin_token(client)  # type: ignore[attr-defined]
        await register(client, **(user or {}))
        client.cookies.clear()
        client.app_client = await new_client(client, client.admin, **app)  # type: ignore[attr-defined]
        yield client
