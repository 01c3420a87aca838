"""authgate's public keys, fetched from its JWKS and cached.

The set is cached for the shorter of the configured time and the response's `max-age`
(authgate never sends a max-age that outlives a published key). A token naming a `kid` the
set lacks makes one fetch at once, shared by every request that arrives while it runs;
fetches are at least `min_interval` apart, so tokens with made-up kids cannot turn into a
flood of requests to authgate. When the cache is out of date and a fetch fails, nothing
verifies (fail closed: 503) until a fetch succeeds.

Only the configured URL is ever fetched: `kid` picks among keys already fetched, and `jku`,
`x5u`, `jwk` and `x5c` headers are never read. Each key is used only with the algorithm the
set names for it, and only keys of the asymmetric algorithms authgate signs with are taken.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx
from jwt import PyJWK

from authgate.client._errors import invalid_token, unavailable
from authgate.client._keys import VerifyingKey

log = logging.getLogger("authgate.client")

# The algorithms a published key may name, with the key type (and curve) each one needs.
ALGORITHMS: dict[str, tuple[str, str | None]] = {
    "EdDSA": ("OKP", "Ed25519"),
    "ES256": ("EC", "P-256"),
    "RS256": ("RSA", None),
}
MIN_RSA_BITS = 2048
PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "k")


class JwksKeys:
    def __init__(
        self,
        url: str,
        http: Callable[[], httpx.AsyncClient],
        *,
        cache_seconds: float,
        min_interval: float,
        realm: str,
    ) -> None:
        self.url = url
        self._http = http
        self._cache_seconds = cache_seconds
        self._min_interval = min_interval
        self._realm = realm
        self._keys: dict[str, VerifyingKey] = {}
        self._usable_until = 0.0  # monotonic
        self._last_attempt: float | None = None  # monotonic
        self._last_ok = False
        self._fetching: asyncio.Task[None] | None = None
        self._listeners: list[Callable[[set[str]], None]] = []

    async def key_for(self, kid: str | None) -> VerifyingKey:
        if kid is None:
            raise invalid_token(self._realm, "The token does not name its key (kid).")
        if self._fresh():
            key = self._keys.get(kid)
            if key is not None:
                return key
        await self._refresh()
        if not self._fresh() or (kid not in self._keys and not self._last_ok):
            raise unavailable("The token's signing keys cannot be fetched from authgate.")
        key = self._keys.get(kid)
        if key is None:
            raise invalid_token(self._realm, "The token is signed with a key authgate does not publish.")
        return key

    def holds(self, kid: str) -> bool:
        return kid in self._keys

    def on_drop(self, listener: Callable[[set[str]], None]) -> None:
        self._listeners.append(listener)

    def _fresh(self) -> bool:
        return time.monotonic() < self._usable_until

    async def _refresh(self) -> None:
        """Join the fetch under way, or start one unless the last began under `min_interval` ago."""
        if self._fetching is None or self._fetching.done():
            now = time.monotonic()
            if self._last_attempt is not None and now - self._last_attempt < self._min_interval:
                return
            self._last_attempt = now
            self._fetching = asyncio.get_running_loop().create_task(self._fetch())
        # Shielded: a caller that goes away (client disconnect) must not cancel the others' fetch.
        await asyncio.shield(self._fetching)

    async def _fetch(self) -> None:
        try:
            response = await self._http().get(self.url, headers={"Accept": "application/json"}, follow_redirects=False)
            if response.status_code != 200:
                raise ValueError(f"HTTP {response.status_code}")
            keys = parse_jwks(response.json())
        except Exception as exc:  # any failure leaves the old set to run out (fail closed)
            self._last_ok = False
            log.warning("authgate JWKS fetch from %s failed: %s", self.url, type(exc).__name__)
            return
        if not keys:
            log.warning("authgate JWKS at %s holds no usable key (is authgate signing with HS256?)", self.url)
        lifetime = min(self._cache_seconds, max_age(response.headers, default=self._cache_seconds))
        self._usable_until = time.monotonic() + max(lifetime, self._min_interval)
        self._last_ok = True
        gone = set(self._keys) - set(keys)
        self._keys = keys
        if gone:
            for listener in self._listeners:
                listener(gone)


def parse_jwks(document: Any) -> dict[str, VerifyingKey]:
    """The usable keys of a JWKS, by kid; keys that are not usable are left out."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("not a JWK set")
    keys: dict[str, VerifyingKey] = {}
    for jwk in document["keys"]:
        key = parse_jwk(jwk)
        if key is not None:
            keys.setdefault(key.kid, key)
    return keys


def parse_jwk(jwk: Any) -> VerifyingKey | None:
    """A public signing key that names its kid and one of our algorithms and is of the key type
    that algorithm needs; None for anything else (`oct` secrets, private keys, ...)."""
    if not isinstance(jwk, dict):
        return None
    kid, algorithm = jwk.get("kid"), jwk.get("alg")
    if not isinstance(kid, str) or not kid or not isinstance(algorithm, str) or algorithm not in ALGORITHMS:
        return None
    kty, crv = ALGORITHMS[algorithm]
    if jwk.get("kty") != kty or (crv is not None and jwk.get("crv") != crv):
        return None
    if jwk.get("use", "sig") != "sig" or any(member in jwk for member in PRIVATE_MEMBERS):
        return None
    ops = jwk.get("key_ops")
    if ops is not None and (not isinstance(ops, list) or "verify" not in ops):
        return None
    try:
        public = PyJWK(jwk, algorithm).key
    except Exception:  # a malformed key is skipped, not fatal to the others
        log.warning("authgate JWKS key %r cannot be read; it is ignored", kid)
        return None
    if kty == "RSA" and getattr(public, "key_size", 0) < MIN_RSA_BITS:
        return None
    return VerifyingKey(kid, algorithm, public)


def max_age(headers: Mapping[str, str], *, default: float) -> float:
    """Seconds the response may be cached: `Cache-Control: max-age` less `Age`; 0 for
    `no-store` / `no-cache`; `default` when it says nothing."""
    directives: dict[str, str] = {}
    for part in headers.get("cache-control", "").split(","):
        name, _, value = part.strip().partition("=")
        directives[name.strip().lower()] = value.strip().strip('"')
    if "no-store" in directives or "no-cache" in directives:
        return 0.0
    try:
        seconds = float(int(directives["max-age"]))
    except (KeyError, ValueError):
        return default
    try:
        seconds -= int(headers.get("age", "0"))
    except ValueError:
        pass
    return max(0.0, seconds)
