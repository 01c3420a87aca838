"""Key material for signing access tokens: making a key pair, its public JWK and `kid`, and
reading a stored private key back. Only `cryptography` and PyJWT touch the math.

A `kid` names every key, so that whoever verifies picks the key from its own configured set
and never from anything else the token's header says. An asymmetric key's `kid` is its
RFC 7638 thumbprint; the HS256 key's `kid` is derived from `JWT_SECRET` with HMAC under a
distinct label, so it changes when the secret does and reveals nothing about it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any, Literal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

HS256 = "HS256"
ASYMMETRIC = ("EdDSA", "ES256", "RS256")
Algorithm = Literal["HS256", "EdDSA", "ES256", "RS256"]

PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey


@dataclass(frozen=True)
class NewKey:
    kid: str
    algorithm: str
    private_pem: str  # PKCS#8; sealed before it is stored
    public_jwk: dict[str, Any]  # as published


def secret_kid(secret: str) -> str:
    mac = hmac.new(secret.encode("utf-8"), b"authgate access-token key id", hashlib.sha256).digest()
    return "hs-" + base64.urlsafe_b64encode(mac[:12]).decode("ascii")


def generate(algorithm: str) -> NewKey:
    """A fresh key pair for one of the asymmetric algorithms."""
    private: PrivateKey
    if algorithm == "EdDSA":
        private = ed25519.Ed25519PrivateKey.generate()
    elif algorithm == "ES256":
        private = ec.generate_private_key(ec.SECP256R1())
    elif algorithm == "RS256":
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    else:
        raise ValueError(f"not an asymmetric signing algorithm: {algorithm}")
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")
    from joserfc.jwk import import_key  # here: only a new asymmetric key needs joserfc

    jwk = public_jwk(private.public_key())
    kid: str = import_key(jwk).thumbprint()
    published = {**jwk, "kid": kid, "alg": algorithm, "use": "sig"}
    return NewKey(kid=kid, algorithm=algorithm, private_pem=pem, public_jwk=published)


def public_jwk(public: PublicKey) -> dict[str, Any]:
    """The public members only (`use: sig` is added, so PyJWT's `key_ops` is left out)."""
    if isinstance(public, ed25519.Ed25519PublicKey):
        jwk = OKPAlgorithm.to_jwk(public, as_dict=True)
    elif isinstance(public, ec.EllipticCurvePublicKey):
        jwk = ECAlgorithm.to_jwk(public, as_dict=True)
    else:
        jwk = RSAAlgorithm.to_jwk(public, as_dict=True)
    return {name: value for name, value in jwk.items() if name != "key_ops"}


def load_private(pem: str) -> PrivateKey:
    key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    if not isinstance(key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise ValueError("unsupported private key type")
    return key
