"""Any OpenID Connect provider, found by issuer discovery (Google is one, with its issuer
built in).

The identity token is checked with joserfc: its signature against the provider's published
keys (fetched from the discovered `jwks_uri`, never from a URL in the token), an asymmetric
algorithm the provider announces (never `none`, never a shared-secret one), and the claims
`iss`, `aud` (and `azp` when there are several audiences), `exp`, `iat` and `nonce`.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError, MissingKeyError
from joserfc.jwk import KeySet

from authgate.oauth.base import (
    TIMEOUT,
    Grant,
    Identity,
    ProviderRefused,
    ProviderUnavailable,
    authorization_url,
    exchange_code,
    get_json,
    text_claim,
    verified_flag,
)
from authgate.settings import OAuthProviderSettings

ASYMMETRIC = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
DISCOVERY_TTL = 3600.0  # seconds a discovery document is kept
CLOCK_LEEWAY = 60  # seconds of clock difference tolerated on exp and iat


class OidcProvider:
    scopes = ["openid", "email", "profile"]

    def __init__(self, name: str, config: OAuthProviderSettings, http: httpx.AsyncClient, *, issuer: str) -> None:
        self.name = name
        self.config = config
        self.http = http
        self.issuer = issuer  # compared exactly with the discovery document's and the token's
        self._metadata: dict[str, Any] | None = None
        self._metadata_at = 0.0
        self._keys: KeySet | None = None
        self._lock = asyncio.Lock()

    async def metadata(self) -> dict[str, Any]:
        """The discovery document, fetched once an hour; its issuer must be ours exactly."""
        if self._metadata is not None and time.monotonic() - self._metadata_at < DISCOVERY_TTL:
            return self._metadata
        async with self._lock:
            if self._metadata is None or time.monotonic() - self._metadata_at >= DISCOVERY_TTL:
                try:
                    url = f"{self.issuer.rstrip('/')}/.well-known/openid-configuration"
                    response = await self.http.get(url, timeout=TIMEOUT)
                    document = response.json() if response.status_code == 200 else None
                except (httpx.HTTPError, ValueError):
                    document = None
                if not isinstance(document, dict):
                    raise ProviderUnavailable("The provider's discovery document could not be read.")
                if document.get("issuer") != self.issuer:
                    raise ProviderUnavailable("The provider's discovery document names another issuer.")
                for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                    if not isinstance(document.get(key), str):
                        raise ProviderUnavailable(f"The provider's discovery document has no {key}.")
                self._metadata, self._metadata_at = document, time.monotonic()
        assert self._metadata is not None
        return self._metadata

    async def authorization_url(self, *, state: str, nonce: str, verifier: str, redirect_uri: str) -> str:
        endpoint = self.config.authorize_url or (await self.metadata())["authorization_endpoint"]
        return authorization_url(
            endpoint,
            self.config,
            scopes=self.scopes,
            state=state,
            verifier=verifier,
            redirect_uri=redirect_uri,
            nonce=nonce,
        )

    async def identify(self, grant: Grant) -> Identity:
        metadata = await self.metadata()
        token_url = self.config.token_url or metadata["token_endpoint"]
        basic = "client_secret_basic" in metadata.get("token_endpoint_auth_methods_supported", ["client_secret_basic"])
        tokens = await exchange_code(self.http, token_url, self.config, grant, secret_in_body=not basic)
        id_token = tokens.get("id_token")
        if not isinstance(id_token, str):
            raise ProviderRefused("The provider sent no identity token.")
        claims = await self.verify(id_token, nonce=grant.nonce, metadata=metadata)
        userinfo_url = self.config.userinfo_url or metadata.get("userinfo_endpoint")
        if "email" not in claims and isinstance(userinfo_url, str):
            info = await get_json(self.http, userinfo_url, tokens["access_token"])
            if isinstance(info, dict) and info.get("sub") == claims["sub"]:  # OIDC Core 5.3.2
                claims = {**info, **claims}
        return Identity(
            subject=str(claims["sub"]),
            email=text_claim(claims, "email"),
            email_verified=verified_flag(claims.get("email_verified")),
            name=text_claim(claims, "name"),
        )

    async def verify(self, id_token: str, *, nonce: str, metadata: dict[str, Any]) -> dict[str, Any]:
        announced = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
        algorithms = [alg for alg in announced if alg in ASYMMETRIC]
        try:
            try:
                token = jwt.decode(id_token, await self.keys(metadata), algorithms=algorithms)
            except (InvalidKeyIdError, MissingKeyError):
                # A key the provider has just rotated in: fetch the keys again, once.
                token = jwt.decode(id_token, await self.keys(metadata, refresh=True), algorithms=algorithms)
            claims = dict(token.claims)
            jwt.JWTClaimsRegistry(
                leeway=CLOCK_LEEWAY,
                iss={"essential": True, "value": self.issuer},
                aud={"essential": True, "value": self.config.client_id},
                sub={"essential": True},
                exp={"essential": True},
                iat={"essential": True},
                nonce={"essential": True, "value": nonce},
            ).validate(claims)
        except (JoseError, ValueError, TypeError):
            raise ProviderRefused("The provider's identity token did not verify.") from None
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != self.config.client_id:
            raise ProviderRefused("The provider's identity token was issued to another client.")
        if not isinstance(claims["sub"], str) or not claims["sub"]:
            raise ProviderRefused("The provider's identity token names no subject.")
        return claims

    async def keys(self, metadata: dict[str, Any], *, refresh: bool = False) -> KeySet:
        """The provider's published keys, fetched again when a token names a key we do not
        hold. (Only a token from the provider's own token endpoint gets here, at the end of a
        flow with a valid state: no one can make us refetch at will.)"""
        if self._keys is None or refresh:
            answer = await get_json(self.http, metadata["jwks_uri"])
            try:
                self._keys = KeySet.import_key_set(answer)
            except (JoseError, ValueError, TypeError, KeyError):
                raise ProviderUnavailable("The provider's keys could not be read.") from None
        return self._keys
