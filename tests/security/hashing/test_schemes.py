"""The canonical stored strings of the PBKDF2, scrypt and Firebase schemes, and that a damaged
one, or a password no hash can be made of, gives False and never an exception."""

from __future__ import annotations

import re

import pytest
from argon2.low_level import Type, hash_secret

from authgate.security.hashing import registry
from authgate.security.hashing.formats import parse
from tests.security.hashing import generators as gen
from tests.security.hashing.generators import FIREBASE_VECTOR

B64 = "[A-Za-z0-9+/]+"


@pytest.mark.parametrize(
    ("password", "pattern"),
    [
        (
            {"format": "werkzeug", "hash": gen.werkzeug("pbkdf2:sha512:1000", "pw")},
            rf"\$pbkdf2-sha512\$i=1000\${B64}\${B64}",
        ),
        ({"format": "django", "hash": gen.django("pbkdf2_sha1", "pw")}, rf"\$pbkdf2-sha1\$i=1000\${B64}\${B64}"),
        (
            {"format": "pbkdf2", "hash": gen.passlib_hash("pbkdf2_sha256", "pw")},
            rf"\$pbkdf2-sha256\$i=1000\${B64}\${B64}",
        ),
        (
            {"format": "werkzeug", "hash": gen.werkzeug("scrypt:1024:8:1", "pw")},
            rf"\$scrypt\$ln=10,r=8,p=1\${B64}\${B64}",
        ),
        ({"format": "django", "hash": gen.django("scrypt", "pw")}, rf"\$scrypt\$ln=10,r=8,p=5\${B64}\${B64}"),
        (FIREBASE_VECTOR, rf"\$firebase-scrypt\$r=8,m=14\${B64}\${B64}\${B64}\${B64}"),
    ],
)
def test_canonical_stored_strings(password: object, pattern: str) -> None:
    stored = parse(password)
    assert re.fullmatch(pattern, stored.value), stored.value
    assert "=" not in stored.value.rsplit("$", 1)[1]  # no padding


@pytest.mark.parametrize("with_version", [True, False])
def test_argon2_version_16_and_no_version(with_version: bool) -> None:
    hashed = hash_secret(b"pw", b"saltsaltsalt", 1, 1024, 1, 32, Type.ID, version=16).decode()
    if not with_version:
        hashed = hashed.replace("v=16$", "")
    stored = parse({"format": "argon2", "hash": hashed})
    assert registry.verify(stored.scheme, "pw", stored.value)
    assert not registry.verify(stored.scheme, "px", stored.value)


DAMAGED = [
    "",
    "garbage",
    "$pbkdf2-sha256$i=1000$!!$abc",
    "$pbkdf2-sha256$i=0$c2FsdA$" + "A" * 43,
    "$pbkdf2-sha256$i=99999999$c2FsdA$" + "A" * 43,
    "$pbkdf2-sha512$i=1000$c2FsdA$" + "A" * 43,  # digest and scheme disagree (for pbkdf2-sha256)
    "$scrypt$ln=40,r=8,p=1$c2FsdA$" + "A" * 43,
    "$scrypt$ln=10,r=0,p=1$c2FsdA$" + "A" * 43,
    "$scrypt$ln=10,r=8,p=1$c2FsdA$AAAA",
    "$firebase-scrypt$r=8,m=30$c2FsdA$Bw$" + "A" * 86 + "$" + "A" * 86,
    "$firebase-scrypt$r=8,m=14$c2FsdA$Bw$" + "A" * 86 + "$" + "A" * 43,
    "$firebase-scrypt$r=8,m=14$c2FsdA$Bw$ü$ü",
]


@pytest.mark.parametrize("scheme", ["pbkdf2-sha1", "pbkdf2-sha256", "pbkdf2-sha512", "scrypt", "firebase-scrypt"])
@pytest.mark.parametrize("stored", DAMAGED)
def test_damaged_stored_string_is_false(scheme: str, stored: str) -> None:
    assert registry.verify(scheme, "pw", stored) is False


@pytest.mark.parametrize(
    "password",
    [
        {"format": "werkzeug", "hash": gen.werkzeug("pbkdf2:sha256:1000", "pw")},
        {"format": "werkzeug", "hash": gen.werkzeug("scrypt:1024:8:1", "pw")},
        FIREBASE_VECTOR,
    ],
)
def test_lone_surrogate_password_is_false(password: object) -> None:
    stored = parse(password)
    assert registry.verify(stored.scheme, "pw\ud800", stored.value) is False


def test_scheme_names_registered() -> None:
    for name in ("pbkdf2-sha1", "pbkdf2-sha256", "pbkdf2-sha512", "scrypt", "firebase-scrypt"):
        assert registry.SCHEMES[name].name == name
