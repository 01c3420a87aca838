"""Tokens are made as PyJWT makes them: the signing path keeps the answer of PyJWT's check of
the HS256 secret for the secret it signs with, and nothing else changes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from authgate.security.key_pairs import generate, load_private
from authgate.security.signed_tokens import TokenCodec
from tests.support.app import TEST_SECRET

HEADERS_AND_CLAIMS = {"sub": "u-1", "sid": "s-1", "amr": ["pwd"], "name": "Zoë"}


@dataclass(frozen=True)
class Key:
    kid: str
    algorithm: str
    key: Any


@dataclass
class Keys:
    signer: Key | None

    def lookup(self, kid: str | None) -> Key | None:
        return self.signer if self.signer is not None and kid == self.signer.kid else None

    async def reload_for_unknown(self, kid: str) -> None:
        return None


def codec(key: Key) -> TokenCodec:
    return TokenCodec(Keys(key), issuer="http://testserver", audience="authgate")


@pytest.mark.parametrize("algorithm", ["HS256", "EdDSA", "RS256"])
async def test_a_token_is_byte_for_byte_what_pyjwt_makes(algorithm: str) -> None:
    key = (
        Key("k1", "HS256", TEST_SECRET.encode())
        if algorithm == "HS256"
        else Key("k1", algorithm, load_private(generate(algorithm).private_pem))
    )
    made = codec(key).encode(HEADERS_AND_CLAIMS, purpose="access", ttl_seconds=900, issued_at=1_900_000_000)
    claims = jwt.decode(made, options={"verify_signature": False})
    expected = jwt.encode(claims, key.key, algorithm=algorithm, headers={"typ": "JWT", "kid": "k1"})
    assert made == expected
    again = codec(key).encode(
        HEADERS_AND_CLAIMS, purpose="access", ttl_seconds=900, issued_at=1_900_000_000, token_id=claims["jti"]
    )
    assert again == made


def test_another_secret_is_checked_again() -> None:
    """The kept answer is for one secret object: after a good secret has signed, a key PyJWT
    refuses as an HMAC secret (an asymmetric public key) is still refused."""
    good = Key("k1", "HS256", TEST_SECRET.encode())
    codec(good).encode({"sub": "u"}, purpose="access", ttl_seconds=60)
    public_pem = (
        ed25519.Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(jwt.InvalidKeyError):
        codec(Key("k2", "HS256", public_pem)).encode({"sub": "u"}, purpose="access", ttl_seconds=60)
    assert (
        jwt.decode(
            codec(good).encode({"sub": "u"}, purpose="access", ttl_seconds=60),
            good.key,
            algorithms=["HS256"],
            audience="authgate",
        )["sub"]
        == "u"
    )
