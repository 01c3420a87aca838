"""Interoperability: authgate signs in through an OpenID Provider it was not written
against — `oidc-provider-mock`, built on authlib's authorization-server components — run as
its own process on loopback, with client registration and nonces required."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.support.app import ClientFactory
from tests.support.server import PATIENCE
from tests.support.social import callback_of, query_of


@dataclass(frozen=True)
class IndependentProvider:
    issuer: str
    client_id: str
    client_secret: str


@pytest.fixture
def independent_op(free_tcp_port: int) -> Iterator[IndependentProvider]:
    issuer = f"http://127.0.0.1:{free_tcp_port}"
    claims = {"sub": "grace-1", "email": "grace@example.com", "email_verified": True, "name": "Grace"}
    command = [
        sys.executable,
        "-W",
        "ignore",  # its own dependencies' deprecation notices are not ours to fail on
        "-m",
        "oidc_provider_mock",
        "--port",
        str(free_tcp_port),
        "--require-registration",
        "true",
        "--require-nonce",
        "true",
        "--user-claims",
        json.dumps(claims),
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + PATIENCE
        while True:
            try:
                if httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise AssertionError("oidc-provider-mock did not start")
            time.sleep(0.1)
        registration = httpx.post(f"{issuer}/oauth2/clients", json={"redirect_uris": [callback_of("indie")]})
        assert registration.status_code == 201, registration.text
        client = registration.json()
        yield IndependentProvider(issuer, client["client_id"], client["client_secret"])
    finally:
        process.terminate()
        process.wait(timeout=10)


async def _through(client: httpx.AsyncClient, authorization_url: str, sub: str) -> httpx.Response:
    """The browser at the provider: it picks the subject on the provider's form."""
    async with httpx.AsyncClient(timeout=10) as browser:
        form = await browser.get(authorization_url)
        assert form.status_code == 200, form.text
        consent = await browser.post(authorization_url, data={"sub": sub})
    assert consent.status_code == 302, consent.text
    return await client.get(consent.headers["location"])


async def test_sign_in_through_an_independent_provider(
    make_client: ClientFactory, independent_op: IndependentProvider
) -> None:
    provider = {
        "client_id": independent_op.client_id,
        "client_secret": independent_op.client_secret,
        "issuer": independent_op.issuer,
    }
    async with make_client(oauth_providers={"indie": provider}) as client:
        start = await client.get("/oauth/indie")
        assert start.status_code == 302
        assert query_of(start.headers["location"])["code_challenge_method"] == "S256"
        first = await _through(client, start.headers["location"], "grace-1")
        assert first.status_code == 200, first.text
        user = first.json()["user"]
        assert user["email"] == "grace@example.com" and user["emailVerified"] is True and user["name"] == "Grace"

        again = await _through(client, (await client.get("/oauth/indie")).headers["location"], "grace-1")
        assert again.status_code == 200, again.text
        assert again.json()["user"]["id"] == user["id"]
