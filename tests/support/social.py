"""Driving social login the way a browser does: authgate in-process (its cookie jar is the
browser's), the provider over real HTTP on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.support.app import ClientFactory
from tests.support.oidc_provider import TestProvider

CLIENT_ID = "authgate-test"
# `+`, `/`, `:` and `%` catch a client that skips the form-encoding of HTTP Basic credentials.
SECRET = "s3cr+t/with:odd%chars"
APP = "http://app.example"  # the app that social login sends people back to
PUBLIC_URL = "http://testserver"


def callback_of(name: str) -> str:
    return f"{PUBLIC_URL}/oauth/{name}/callback"


def oidc_provider(op: TestProvider, name: str = "acme", client_id: str = CLIENT_ID) -> dict[str, Any]:
    """Settings for an OpenID Connect provider `name` at `op` (and the client registered there)."""
    op.register_client(client_id, SECRET, [callback_of(name)])
    return {"client_id": client_id, "client_secret": SECRET, "issuer": op.issuer}


def github_provider(op: TestProvider) -> dict[str, Any]:
    """GitHub, with its endpoints pointed at `op`'s GitHub-shaped API."""
    op.register_client("gh-app", "gh-secret", [callback_of("github")], github=True)
    return {
        "client_id": "gh-app",
        "client_secret": "gh-secret",
        "authorize_url": op.url("/authorize"),
        "token_url": op.url("/token"),
        "userinfo_url": op.url("/user"),
    }


SocialClientFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


def social_client_factory(make_client: ClientFactory, op: TestProvider) -> SocialClientFactory:
    @asynccontextmanager
    async def factory(
        providers: dict[str, dict[str, Any]] | None = None, **overrides: Any
    ) -> AsyncIterator[httpx.AsyncClient]:
        settings = {
            "oauth_providers": providers if providers is not None else {"acme": oidc_provider(op)},
            "redirect_allowlist": [APP],
            **overrides,
        }
        async with make_client(**settings) as client:
            yield client

    return factory


async def callback_from_provider(url: str) -> str:
    """The browser at the provider (`url`: its authorization URL): it consents at once and is
    sent back; the callback URL it is sent to, not yet opened."""
    async with httpx.AsyncClient(timeout=10) as browser:
        answer = await browser.get(url)
    assert answer.status_code == 302, answer.text
    return str(answer.headers["location"])


async def through_provider(client: httpx.AsyncClient, start: httpx.Response | str) -> httpx.Response:
    """From authgate's redirect (or an authorization URL) to the provider and back to the
    callback, in the browser of `client`; the callback's answer."""
    if isinstance(start, httpx.Response):
        assert start.status_code == 302, start.text
        start = start.headers["location"]
    return await client.get(await callback_from_provider(start))


async def sign_in(client: httpx.AsyncClient, provider: str = "acme", **params: str) -> httpx.Response:
    """A whole sign-in through `provider`, in the browser of `client`."""
    return await through_provider(client, await client.get(f"/oauth/{provider}", params=params))


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def fragment_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).fragment).items()}
