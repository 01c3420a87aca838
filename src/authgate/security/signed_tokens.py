"""JWT signing and verification.

Every token names its key with `kid`; verification looks that kid up in our own key set
(the runtime's key ring, seen here as a `KeySet`) and uses the key only with that key's algorithm, so `alg: none`, an
algorithm swap, or a `jku`, `x5u` or `jwk` header can never choose a key. Every token carries a
`purpose` claim that verification checks, so an MFA token or any other kind can never pass
where an access token is expected (RFC 8725 §3.11).
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any, Protocol

import jwt
from jwt.algorithms import HMACAlgorithm

from authgate.errors import invalid_token, temporarily_unavailable, token_expired

ACCESS = "access"


class Key(Protocol):
    @property
    def kid(self) -> str: ...
    @property
    def algorithm(self) -> str: ...
    @property
    def key(self) -> Any: ...  # a key object, or the HS256 secret


class KeySet(Protocol):
    """What signs and what verifies (the runtime's key ring)."""

    @property
    def signer(self) -> Key | None: ...
    def lookup(self, kid: str | None) -> Key | None: ...
    async def reload_for_unknown(self, kid: str) -> None: ...


class _SecretCheckedOnce(HMACAlgorithm):
    """HS256 as PyJWT signs it, but PyJWT checks the secret on every signature (that it is not
    a PEM, SSH, DER, certificate or JWK key: a failed parse or two), which costs several times
    the signature itself. The signing secret is one object for as long as it signs, so the
    answer for that object is kept."""

    def __init__(self) -> None:
        super().__init__(HMACAlgorithm.SHA256)
        self._checked: tuple[object, bytes] | None = None

    def prepare_key(self, key: str | bytes) -> bytes:
        checked = self._checked
        if checked is not None and checked[0] is key:
            return checked[1]
        prepared = super().prepare_key(key)
        self._checked = (key, prepared)
        return prepared


_SIGNING = jwt.PyJWS()
_SIGNING.unregister_algorithm("HS256")
_SIGNING.register_algorithm("HS256", _SecretCheckedOnce())


@dataclass(frozen=True)
class TokenCodec:
    keys: KeySet
    issuer: str
    audience: str

    def encode(
        self,
        claims: dict[str, Any],
        *,
        purpose: str,
        ttl_seconds: int,
        issued_at: int | None = None,
        token_id: str | None = None,
    ) -> str:
        """A signed token; `issued_at` and `token_id` (`iat`, `jti`) are now and random unless
        given: the same claims, time and id under the same key make the same token again
        (byte for byte with HS256, RS256 and EdDSA, whose signatures are deterministic)."""
        signer = self.keys.signer
        if signer is None:  # an asymmetric key could not be read or made yet (database down)
            raise temporarily_unavailable("No signing key is available yet.")
        now = int(time.time()) if issued_at is None else issued_at
        payload = {
            "iss": self.issuer,
            "aud": self.audience,
            "iat": now,
            "exp": now + ttl_seconds,
            "jti": token_id or uuid.uuid4().hex,
            "purpose": purpose,
            **claims,
        }
        claims_json = json.dumps(payload, separators=(",", ":")).encode()  # as jwt.encode writes them
        return _SIGNING.encode(
            claims_json, signer.key, algorithm=signer.algorithm, headers={"typ": "JWT", "kid": signer.kid}
        )

    def sign(self, payload: dict[str, Any], *, typ: str = "JWT") -> str:
        """A token of exactly `payload` (the caller sets every claim), for another audience
        than authgate's own: the OpenID provider's ID tokens (`typ` JWT) and the access tokens
        it gives apps (`typ` at+jwt, RFC 9068)."""
        signer = self.keys.signer
        if signer is None:
            raise temporarily_unavailable("No signing key is available yet.")
        claims_json = json.dumps(payload, separators=(",", ":")).encode()
        return _SIGNING.encode(
            claims_json, signer.key, algorithm=signer.algorithm, headers={"typ": typ, "kid": signer.kid}
        )

    async def verify(
        self, token: str, *, typ: str, audience: str | None = None, purpose: str | None = None, expiry: bool = True
    ) -> dict[str, Any]:
        """Check a token `sign` made: our key (by `kid`, its algorithm only), `typ`, `iss`,
        `aud` when given, `purpose` when given, and `exp` unless `expiry` is False (an
        `id_token_hint` is read after it expired)."""
        kid = key_id(token)
        if kid is not None and self.keys.lookup(kid) is None:
            await self.keys.reload_for_unknown(kid)
        key = self.keys.lookup(kid)
        if key is None:
            raise invalid_token()
        try:
            header = jwt.get_unverified_header(token)
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[key.algorithm],
                audience=audience,
                issuer=self.issuer,
                options={"require": ["iat", "iss", "sub"], "verify_aud": audience is not None, "verify_exp": expiry},
                leeway=0,
            )
        except jwt.ExpiredSignatureError:
            raise token_expired() from None
        except jwt.PyJWTError:
            raise invalid_token() from None
        if str(header.get("typ", "")).lower() != typ.lower():
            raise invalid_token()
        if purpose is not None and claims.get("purpose") != purpose:
            raise invalid_token()
        return claims

    async def decode(self, token: str, *, purpose: str) -> dict[str, Any]:
        """Verify signature, algorithm, `exp`, `iss`, `aud` and purpose; raise AuthError. A
        kid this node does not know yet makes it read the key table first (rate-limited)."""
        kid = key_id(token)
        if kid is not None and self.keys.lookup(kid) is None:
            await self.keys.reload_for_unknown(kid)
        return self.decode_known(token, purpose=purpose)

    def decode_known(self, token: str, *, purpose: str) -> dict[str, Any]:
        """`decode` with the keys this node holds now."""
        key = self.keys.lookup(key_id(token))
        if key is None:
            raise invalid_token()
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[key.algorithm],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "iss", "aud", "sub", "purpose"]},
                leeway=0,
            )
        except jwt.ExpiredSignatureError:
            raise token_expired() from None
        except jwt.PyJWTError:
            raise invalid_token() from None
        if claims.get("purpose") != purpose:
            raise invalid_token()
        return claims


def key_id(token: str) -> str | None:
    """The `kid` a token's header names (unverified: it only picks among our own keys);
    None when there is none. A header that is not a JSON object, or a kid that is not a
    string, is refused."""
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.PyJWTError:
        raise invalid_token() from None
    if kid is not None and not isinstance(kid, str):
        raise invalid_token()
    return kid
