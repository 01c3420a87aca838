"""What every provider kind is, and the parts of the code flow they share.

The protocol is authlib's: it builds the authorization request and the token request (PKCE
S256 always); httpx carries them. An answer the provider should not have given (a refused
code, an identity token that does not verify) is `ProviderRefused`; a provider that cannot
be reached or breaks is `ProviderUnavailable`. Nothing a provider sends reaches a log or a
response as it came.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote_plus

import httpx

from authgate.settings import OAuthProviderSettings

TIMEOUT = httpx.Timeout(10.0)


class ProviderRefused(Exception):
    """The provider's answer does not let the sign-in go on (the message is ours, safe to show)."""


class ProviderUnavailable(Exception):
    """The provider could not be reached, or answered with an error of its own."""


@dataclass(frozen=True)
class Identity:
    """Who the provider says signed in. `email_verified` is True only when the provider says
    so explicitly; `subject` is its stable id for the person (never the email)."""

    subject: str
    email: str | None
    email_verified: bool
    name: str | None


@dataclass(frozen=True)
class Grant:
    """What the callback brought, with what the flow kept for it: the PKCE verifier and the
    nonce that the identity token must carry."""

    code: str
    verifier: str
    nonce: str
    redirect_uri: str


class Provider(Protocol):
    name: str

    async def authorization_url(self, *, state: str, nonce: str, verifier: str, redirect_uri: str) -> str:
        """Where to send the browser to sign in at the provider."""
        ...

    async def identify(self, grant: Grant) -> Identity:
        """Exchange the code and read who signed in (ProviderRefused, ProviderUnavailable)."""
        ...


def authorization_url(
    endpoint: str,
    config: OAuthProviderSettings,
    *,
    scopes: list[str],
    state: str,
    verifier: str,
    redirect_uri: str,
    nonce: str | None = None,
) -> str:
    # authlib (with joserfc, about 2.5 MB) loads only when a provider is used (tests/runtime/test_footprint.py).
    from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
    from authlib.oauth2.rfc7636 import create_s256_code_challenge

    extra = {"nonce": nonce} if nonce is not None else {}
    return str(
        prepare_grant_uri(
            endpoint,
            config.client_id,
            "code",
            redirect_uri=redirect_uri,
            scope=" ".join(config.scopes or scopes),
            state=state,
            code_challenge=create_s256_code_challenge(verifier),
            code_challenge_method="S256",
            **extra,
        )
    )


async def exchange_code(
    http: httpx.AsyncClient, endpoint: str, config: OAuthProviderSettings, grant: Grant, *, secret_in_body: bool = False
) -> dict[str, Any]:
    """The token endpoint's answer to the code (client_secret_basic, or _post when the
    provider wants the secret in the body)."""
    from authlib.oauth2.rfc6749.parameters import prepare_token_request  # on first use, as above

    fields: dict[str, str] = {"code": grant.code, "redirect_uri": grant.redirect_uri, "code_verifier": grant.verifier}
    # client_secret_basic: id and secret form-encoded before Basic (RFC 6749 section 2.3.1).
    auth: httpx.BasicAuth | None = httpx.BasicAuth(quote_plus(config.client_id), quote_plus(config.client_secret))
    if secret_in_body:
        fields |= {"client_id": config.client_id, "client_secret": config.client_secret}
        auth = None
    body = prepare_token_request("authorization_code", **fields)
    headers = {"Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"}
    answer = await _send(http, "POST", endpoint, content=body, headers=headers, auth=auth)
    if not isinstance(answer, dict) or not isinstance(answer.get("access_token"), str):
        raise ProviderRefused("The provider did not accept the sign-in (its code was refused).")
    return answer


async def get_json(http: httpx.AsyncClient, url: str, access_token: str | None = None) -> Any:
    headers = {"Accept": "application/json"}
    if access_token is not None:
        headers["Authorization"] = f"Bearer {access_token}"
    return await _send(http, "GET", url, headers=headers)


async def _send(http: httpx.AsyncClient, method: str, url: str, **kwargs: Any) -> Any:
    try:
        response = await http.request(method, url, timeout=TIMEOUT, follow_redirects=False, **kwargs)
    except httpx.HTTPError:
        raise ProviderUnavailable("The provider could not be reached.") from None
    if response.status_code >= 500 or 300 <= response.status_code < 400:
        raise ProviderUnavailable(f"The provider answered {response.status_code}.")
    try:
        answer = response.json()
    except ValueError:
        raise ProviderUnavailable("The provider's answer was not JSON.") from None
    # A refused request: 4xx, or (GitHub) 200 with an "error" member.
    if response.status_code >= 400 or (isinstance(answer, dict) and "error" in answer):
        raise ProviderRefused("The provider did not accept the sign-in.")
    return answer


def verified_flag(value: object) -> bool:
    """Only an explicit yes counts (some providers send the string "true")."""
    return value is True or value == "true"


def text_claim(claims: dict[str, Any], name: str) -> str | None:
    value = claims.get(name)
    return value if isinstance(value, str) and value else None
