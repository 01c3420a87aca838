"""`TokenVerifier`: checks authgate's access tokens where a service handles its requests.

Everything authgate itself checks on a token is checked here with keys the service holds:
the signature (with the shared secret, or with the public keys authgate publishes), `aud`,
`exp`, `iss` when configured, and that the token is an access token (`purpose`) with a
subject. Nothing else of authgate is needed: no database, no settings, no JWT_SECRET in JWKS
mode. What a signature cannot show, that a session was ended before the token expired, is
what optional introspection asks authgate (`_introspection.py`).

A verifier made with `accept_client_tokens=True` also takes the access tokens authgate gave
to apps: header `typ` at+jwt and `"purpose": "oauth_access"`, with the app's `client_id` and
its granted `scope`, and the app's API as their `aud`. The header's `typ` and the `purpose`
must agree, so neither kind of token can pass as the other.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt
from starlette.requests import HTTPConnection

from authgate.client._cache import ClaimsCache, token_digest
from authgate.client._claims import ACCESS, APP_ACCESS, Claims
from authgate.client._credentials import CrossSite, bearer, from_cookie, trusted
from authgate.client._errors import forbidden, invalid_token, missing_token, token_expired
from authgate.client._introspection import Introspector
from authgate.client._jwks import JwksKeys
from authgate.client._keys import KeySource, SecretKey, VerifyingKey

APP_TYP = "at+jwt"  # the header `typ` of the access tokens authgate gives apps
MAX_TOKEN_CHARS = 8192  # authgate's tokens are under 1 KiB; anything far larger is refused unread
MIN_SECRET_CHARS = 32  # as authgate requires of JWT_SECRET
SCOPE_KEY = "authgate.client"  # this request's verified claims, per verifier (see `authenticate`)
STATE_KEY = "authgate_claims"  # `request.state.authgate_claims`


class TokenVerifier:
    """Verifies authgate access tokens. Give exactly one of `secret` (authgate's JWT_SECRET;
    HS256) or `jwks_url` (authgate's `/.well-known/jwks.json`; EdDSA, ES256, RS256).

    `issuer`: authgate's public URL, checked against `iss` when given. `audience`: the `aud`
    authgate issues (its AUTHGATE_JWT_AUDIENCE). `leeway`: seconds of clock skew allowed on
    `exp` and `nbf`. `jwks_cache_seconds`: the longest the key set is kept (less when authgate's
    max-age says so); `jwks_refetch_interval`: the least time between two fetches.
    `claims_cache_size`: verified tokens remembered (0: none). `introspection_url`, `client_id`,
    `client_secret`: ask authgate (RFC 7662) whether each token is still active, caching the
    answer `introspection_cache_seconds`. `cookie_name`: also accept the token from this
    cookie (authgate's is `accessToken`; off by default, see docs/client.md on CSRF).
    `trusted_origins`: web apps on other origins (a sibling subdomain) whose cookie-authenticated
    changes are accepted when their `Origin` header names them exactly.
    `accept_client_tokens`: also accept the access tokens authgate gave to apps, whose `aud`
    must then be `audience` too (JWKS mode only: authgate never signs those with a secret). `realm`:
    named in `WWW-Authenticate`. `http_client`: the httpx client for the JWKS and introspection
    (yours stays open; the verifier closes only one it made, with `aclose()`). `timeout`:
    seconds per call on the verifier's own client.
    """

    def __init__(
        self,
        secret: str | None = None,
        jwks_url: str | None = None,
        *,
        issuer: str | None = None,
        audience: str = "authgate",
        leeway: float = 0.0,
        jwks_cache_seconds: float = 300.0,
        jwks_refetch_interval: float = 1.0,
        claims_cache_size: int = 10_000,
        introspection_url: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        introspection_cache_seconds: float = 5.0,
        cookie_name: str | None = None,
        trusted_origins: Iterable[str] = (),
        accept_client_tokens: bool = False,
        realm: str = "authgate",
        http_client: httpx.AsyncClient | None = None,
        timeout: float = 5.0,
    ) -> None:
        if (secret is None) == (jwks_url is None):
            raise ValueError("give exactly one of secret (HS256) or jwks_url (EdDSA, ES256, RS256)")
        if secret is not None and len(secret) < MIN_SECRET_CHARS:
            raise ValueError(f"secret must be authgate's JWT_SECRET, at least {MIN_SECRET_CHARS} characters")
        if secret is not None and accept_client_tokens:
            raise ValueError("accept_client_tokens needs jwks_url: the tokens authgate gives apps are never HS256")
        for name, value in (("leeway", leeway), ("jwks_cache_seconds", jwks_cache_seconds)):
            if value < 0:
                raise ValueError(f"{name} must not be negative")
        if jwks_refetch_interval < 0 or introspection_cache_seconds < 0 or timeout <= 0:
            raise ValueError(
                "jwks_refetch_interval and introspection_cache_seconds must not be negative, timeout positive"
            )
        if any(c in realm for c in '"\\'):
            raise ValueError("realm must not contain quotes or backslashes")
        given = [v is not None for v in (introspection_url, client_id, client_secret)]
        if any(given) and not all(given):
            raise ValueError("introspection needs introspection_url, client_id and client_secret together")

        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway
        self.realm = realm
        self.cookie_name = cookie_name
        self.trusted_origins = trusted(trusted_origins)
        self.accept_client_tokens = accept_client_tokens
        self._given_http = http_client
        self._own_http: httpx.AsyncClient | None = None
        self._timeout = timeout
        self._required = ["exp", "aud", "sub", "purpose", *(["iss"] if issuer is not None else [])]
        self._claims = ClaimsCache(claims_cache_size)
        self._keys: KeySource
        if jwks_url is not None:
            self._keys = JwksKeys(
                _http_url(jwks_url, "jwks_url"),
                self._http,
                cache_seconds=jwks_cache_seconds,
                min_interval=jwks_refetch_interval,
                realm=realm,
            )
        else:
            assert secret is not None
            self._keys = SecretKey(secret)
        self._keys.on_drop(self._claims.drop_kids)
        self._introspector: Introspector | None = None
        if introspection_url is not None and client_id is not None and client_secret is not None:
            self._introspector = Introspector(
                _http_url(introspection_url, "introspection_url"),
                client_id,
                client_secret,
                self._http,
                cache_seconds=introspection_cache_seconds,
                max_entries=max(claims_cache_size, 1_000),
            )

    async def verify(self, token: str) -> Claims:
        """The claims of a valid access token; raises AuthgateError (401 `invalid_token` or
        `token_expired`, 503 `temporarily_unavailable` when keys or introspection cannot be had)."""
        if not token or len(token) > MAX_TOKEN_CHARS or token.count(".") != 2:
            raise invalid_token(self.realm)
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise invalid_token(self.realm) from None
        kid, typ = header.get("kid"), header.get("typ")
        if kid is not None and not isinstance(kid, str):
            raise invalid_token(self.realm)
        for_app = isinstance(typ, str) and typ.lower() == APP_TYP
        if for_app and not self.accept_client_tokens:
            raise invalid_token(self.realm, "Tokens authgate gave to apps are not accepted here.")
        key = await self._keys.key_for(kid)
        digest = token_digest(token)
        claims = self._claims.get(key.kid, digest)
        if claims is not None and claims.exp <= time.time() - self.leeway:
            self._claims.forget(key.kid, digest)
            raise token_expired(self.realm)
        if claims is None:
            claims = self._decode(token, key, for_app=for_app)
            if self._keys.holds(key.kid):  # not if the key left the set while we checked
                self._claims.put(key.kid, digest, claims)
        if self._introspector is not None and not await self._introspector.active(token, digest):
            raise invalid_token(self.realm, "The token has been revoked.")
        return claims

    def _decode(self, token: str, key: VerifyingKey, *, for_app: bool) -> Claims:
        """The claims, once everything is checked; `for_app`: the header says the token is one
        authgate gave an app, so its `purpose` must say so too (and the reverse)."""
        try:
            payload: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[key.algorithm],  # the key's own algorithm, whatever the header says
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                # `iat` is not compared with our clock: a service whose clock runs behind
                # authgate's must still accept a token issued a moment ago.
                options={"require": self._required, "verify_iat": False},
            )
        except jwt.ExpiredSignatureError:
            raise token_expired(self.realm) from None
        except (jwt.PyJWTError, ValueError, TypeError):  # whatever a malformed token makes PyJWT raise
            raise invalid_token(self.realm) from None
        if payload.get("purpose") != (APP_ACCESS if for_app else ACCESS) or not _well_typed(payload):
            raise invalid_token(self.realm)
        if for_app and not _well_typed_for_app(payload):
            raise invalid_token(self.realm)
        return Claims(payload)

    async def authenticate(self, conn: HTTPConnection) -> Claims:
        """The claims of the request's token (see `cookie_name`); raises AuthgateError. A
        request this verifier already checked (by the middleware, or another dependency) is
        not checked again. The claims are left at `request.state.authgate_claims`."""
        verified: dict[TokenVerifier, Claims] = conn.scope.setdefault(SCOPE_KEY, {})
        claims = verified.get(self)
        if claims is not None:
            return claims
        token = bearer(conn)
        if token is None and self.cookie_name is not None:
            try:
                token = from_cookie(conn, self.cookie_name, self.trusted_origins)
            except CrossSite:
                raise forbidden(self.realm, "Cross-site request refused (CSRF protection).") from None
        if token is None:
            raise missing_token(self.realm)
        claims = await self.verify(token)
        verified[self] = claims
        conn.scope.setdefault("state", {})[STATE_KEY] = claims
        return claims

    def _http(self) -> httpx.AsyncClient:
        if self._given_http is not None:
            return self._given_http
        if self._own_http is None:
            self._own_http = httpx.AsyncClient(timeout=self._timeout, follow_redirects=False)
        return self._own_http

    async def aclose(self) -> None:
        """Close the HTTP client the verifier made (one passed in is left to its owner)."""
        if self._own_http is not None:
            await self._own_http.aclose()
            self._own_http = None

    async def __aenter__(self) -> TokenVerifier:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


def _well_typed(payload: dict[str, Any]) -> bool:
    """The claims role and capability checks read have the types authgate gives them."""
    if not isinstance(payload.get("sub"), str) or not payload["sub"]:
        return False
    if "role" in payload and not isinstance(payload["role"], str):
        return False
    for name in ("caps", "amr"):
        value = payload.get(name, [])
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            return False
    return True


def _well_typed_for_app(payload: dict[str, Any]) -> bool:
    """The app's id and its granted scopes (space-separated, empty when none was granted)."""
    client_id = payload.get("client_id")
    return isinstance(client_id, str) and bool(client_id) and isinstance(payload.get("scope"), str)


def _http_url(url: str, name: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{name} must be an http(s) URL")
    return url
