"""Service credentials and introspection calls for the introspection tests."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

import httpx

from authgate.services import service_credentials
from tests.support.app import runtime
from tests.support.http import register

PATH = "/token/introspect"


@dataclass(frozen=True)
class Credential:
    client_id: str
    secret: str

    @property
    def basic(self) -> dict[str, str]:
        """HTTP Basic as RFC 6749 §2.3.1 has it: each part form-urlencoded first."""
        raw = f"{quote_plus(self.client_id)}:{quote_plus(self.secret)}".encode()
        return {"Authorization": f"Basic {base64.b64encode(raw).decode()}"}

    @property
    def fields(self) -> dict[str, str]:
        return {"client_id": self.client_id, "client_secret": self.secret}


async def new_credential(client: httpx.AsyncClient, name: str = "billing") -> Credential:
    """A credential made through the service, as `authgate service create` makes one."""
    created, secret = await service_credentials.create(runtime(client), name=name)
    return Credential(created.id, secret)


async def introspect(
    client: httpx.AsyncClient,
    credential: Credential | None,
    token: str,
    *,
    form: bool = True,
    basic: bool = True,
    prefix: str = "",
    hint: str | None = None,
) -> httpx.Response:
    """POST /token/introspect: a form post (or JSON), the credential by Basic (or in the body)."""
    body: dict[str, Any] = {"token": token}
    if hint is not None:
        body["token_type_hint"] = hint
    headers: dict[str, str] = {}
    if credential is not None:
        if basic:
            headers.update(credential.basic)
        else:
            body.update(credential.fields)
    if form:
        return await client.post(f"{prefix}{PATH}", data=body, headers=headers)
    return await client.post(f"{prefix}{PATH}", json=body, headers=headers)


async def answer(client: httpx.AsyncClient, credential: Credential, token: str, **options: Any) -> dict[str, Any]:
    """The 200 answer's body (and that it is not to be cached)."""
    response = await introspect(client, credential, token, **options)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    return body


async def signed_in(client: httpx.AsyncClient, email: str = "ada@example.com", **extra: Any) -> dict[str, Any]:
    """A new account's login answer (tokens, user); the client keeps no cookies of it."""
    body: dict[str, Any] = (await register(client, email=email, **extra)).json()
    client.cookies.clear()
    return body


def assert_invalid_client(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == 'Basic realm="authgate"'
    problem = response.json()
    assert problem["code"] == "invalid_client" and problem["error"] == "invalid_client"
