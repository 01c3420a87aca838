"""Every import format, with hashes made by the library that writes it: `parse` names the
expected scheme, and the stored string opens with the right password and no other."""

from __future__ import annotations

import base64
import os
from collections.abc import Callable

import firebase_scrypt
import pytest
from argon2 import Type

from authgate.security.hashing import registry
from authgate.security.hashing.formats import parse
from authgate.security.hashing.policy import StoredHash
from tests.security.hashing import generators as gen

PASSWORDS = [
    "correct horse",
    "Grüße, 日本語 пароль ✓ 🔐",  # non-ASCII
    "long-" + "é漢x" * 40,  # 100+ characters, well over 72 bytes
]
SHORT_PASSWORDS = PASSWORDS[:2]  # plain bcrypt reads at most 72 bytes

# (format, maker, scheme, passwords)
CASES: list[tuple[str, str, Callable[[str], str], str, list[str]]] = [
    ("django-pbkdf2_sha256", "django", lambda pw: gen.django("pbkdf2_sha256", pw), "pbkdf2-sha256", PASSWORDS),
    ("django-pbkdf2_sha1", "django", lambda pw: gen.django("pbkdf2_sha1", pw), "pbkdf2-sha1", PASSWORDS),
    ("django-argon2", "django", lambda pw: gen.django("argon2", pw), "argon2id", PASSWORDS),
    ("django-scrypt", "django", lambda pw: gen.django("scrypt", pw), "scrypt", PASSWORDS),
    ("django-bcrypt_sha256", "django", lambda pw: gen.django("bcrypt_sha256", pw), "django-bcrypt-sha256", PASSWORDS),
    ("django-bcrypt", "django", lambda pw: gen.django("bcrypt", pw), "bcrypt", SHORT_PASSWORDS),
    ("werkzeug-sha1", "werkzeug", lambda pw: gen.werkzeug("pbkdf2:sha1:1000", pw), "pbkdf2-sha1", PASSWORDS),
    ("werkzeug-sha256", "werkzeug", lambda pw: gen.werkzeug("pbkdf2:sha256:1000", pw), "pbkdf2-sha256", PASSWORDS),
    ("werkzeug-sha512", "werkzeug", lambda pw: gen.werkzeug("pbkdf2:sha512:1000", pw), "pbkdf2-sha512", PASSWORDS),
    ("werkzeug-scrypt", "werkzeug", lambda pw: gen.werkzeug("scrypt:1024:8:1", pw), "scrypt", PASSWORDS),
    ("argon2id", "argon2", lambda pw: gen.argon2(Type.ID, pw), "argon2id", PASSWORDS),
    ("argon2i", "argon2", lambda pw: gen.argon2(Type.I, pw), "argon2i", PASSWORDS),
    ("bcrypt-2a", "bcrypt", lambda pw: gen.bcrypt_hash(b"2a", pw), "bcrypt", SHORT_PASSWORDS),
    ("bcrypt-2b", "bcrypt", lambda pw: gen.bcrypt_hash(b"2b", pw), "bcrypt", SHORT_PASSWORDS),
    ("bcrypt-2y", "bcrypt", lambda pw: gen.bcrypt_hash(b"2y", pw), "bcrypt", SHORT_PASSWORDS),
    ("passlib-pbkdf2_sha256", "pbkdf2", lambda pw: gen.passlib_hash("pbkdf2_sha256", pw), "pbkdf2-sha256", PASSWORDS),
    ("passlib-pbkdf2_sha512", "pbkdf2", lambda pw: gen.passlib_hash("pbkdf2_sha512", pw), "pbkdf2-sha512", PASSWORDS),
    ("passlib-scrypt", "scrypt", lambda pw: gen.passlib_hash("scrypt", pw), "scrypt", PASSWORDS),
    ("kratos-pbkdf2", "pbkdf2", lambda pw: gen.phc_pbkdf2("sha256", pw), "pbkdf2-sha256", PASSWORDS),
    ("auth0-pbkdf2-sha512", "pbkdf2", lambda pw: gen.phc_pbkdf2("sha512", pw), "pbkdf2-sha512", PASSWORDS),
    ("phc-pbkdf2-sha1", "pbkdf2", lambda pw: gen.phc_pbkdf2("sha1", pw), "pbkdf2-sha1", PASSWORDS),
    ("kratos-scrypt", "scrypt", gen.kratos_scrypt, "scrypt", PASSWORDS),
]


@pytest.mark.parametrize(("fmt", "maker", "scheme", "passwords"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_library_hash_imports_and_verifies(
    fmt: str, maker: Callable[[str], str], scheme: str, passwords: list[str]
) -> None:
    for password in passwords:
        stored = parse({"format": fmt, "hash": maker(password)})
        assert stored.scheme == scheme
        assert registry.verify(stored.scheme, password, stored.value)
        assert not registry.verify(stored.scheme, password + "x", stored.value)
        assert not registry.verify(stored.scheme, "wrong", stored.value)


def test_padded_base64_is_accepted_too() -> None:
    salt = os.urandom(16)
    plain = gen.phc_pbkdf2("sha256", "pw", salt=salt)
    head, _, rest = plain.rpartition("$")
    head, _, _old_salt = head.rpartition("$")
    padded = f"{head}${base64.b64encode(salt).decode()}${rest}="  # 32-byte key: one "=" of padding
    assert parse({"format": "pbkdf2", "hash": padded}) == parse({"format": "pbkdf2", "hash": plain})


@pytest.mark.parametrize(
    ("scheme", "make"),
    [
        ("bcrypt-sha256", lambda pw: registry.SCHEMES["bcrypt-sha256"].make(pw, 4)),  # type: ignore[attr-defined]
        ("bcrypt-hmac-sha256", lambda pw: registry.SCHEMES["bcrypt-hmac-sha256"].make(pw, 4)),  # type: ignore[attr-defined]
        ("argon2id", lambda pw: gen.argon2(Type.ID, pw)),
    ],
)
def test_authgate_format(scheme: str, make: Callable[[str], str]) -> None:
    for password in PASSWORDS:
        stored = parse({"format": "authgate", "hash": make(password), "scheme": scheme})
        assert stored.scheme == scheme
        assert registry.verify(stored.scheme, password, stored.value)
        assert not registry.verify(stored.scheme, password + "x", stored.value)


def test_authgate_format_defaults_to_bcrypt_sha256() -> None:
    hashed = registry.SCHEMES["bcrypt-sha256"].make("pw", 4)  # type: ignore[attr-defined]
    assert parse({"format": "authgate", "hash": hashed}) == StoredHash("bcrypt-sha256", hashed)
    assert registry.verify("bcrypt-sha256", "pw", hashed)


def test_plain_bcrypt_73_bytes_sharing_the_first_72_does_not_match() -> None:
    password = "a" * 72
    stored = parse({"format": "bcrypt", "hash": gen.bcrypt_hash(b"2b", password)})
    assert registry.verify(stored.scheme, password, stored.value)
    assert not registry.verify(stored.scheme, password + "b", stored.value)


# --- Firebase ---------------------------------------------------------------------------------


def test_firebase_published_vector_reproduces() -> None:
    stored = parse(gen.FIREBASE_VECTOR)
    assert stored.scheme == "firebase-scrypt"
    assert registry.verify(stored.scheme, "user1password", stored.value)
    assert not registry.verify(stored.scheme, "user2password", stored.value)


@pytest.mark.parametrize("password", PASSWORDS)
def test_firebase_library_hash(password: str) -> None:
    row = gen.firebase(password)
    stored = parse(row)
    assert stored.scheme == "firebase-scrypt"
    assert registry.verify(stored.scheme, password, stored.value)
    assert not registry.verify(stored.scheme, password + "x", stored.value)
    assert firebase_scrypt.verify_password(
        password,
        row["hash"],  # type: ignore[arg-type]
        row["salt"],  # type: ignore[arg-type]
        row["params"]["saltSeparator"],  # type: ignore[index]
        row["params"]["signerKey"],  # type: ignore[index]
        2,
        10,
    )


# --- real defaults pass the bounds (parse only: no hash is run) --------------------------------


@pytest.mark.parametrize("algorithm", ["pbkdf2_sha256", "pbkdf2_sha1", "argon2", "scrypt", "bcrypt_sha256", "bcrypt"])
def test_django_defaults_pass(algorithm: str) -> None:
    parse({"format": "django", "hash": gen.django_default(algorithm, "pw")})


@pytest.mark.parametrize("method", ["pbkdf2:sha256:1000000", "pbkdf2:sha1:1000000", "pbkdf2:sha512:1000000", "scrypt"])
def test_werkzeug_defaults_pass(method: str) -> None:
    hashed = gen.werkzeug(method, "pw")
    assert hashed.startswith("scrypt:32768:8:1$") or hashed.startswith(method)
    parse({"format": "werkzeug", "hash": hashed})


def test_werkzeug_own_default_passes() -> None:
    parse({"format": "werkzeug", "hash": gen.werkzeug("scrypt", "pw")})
    parse({"format": "werkzeug", "hash": gen.generate_password_hash("pw")})


def _fake_key(n: int) -> str:
    return gen.raw_b64(os.urandom(n))


@pytest.mark.parametrize(
    "hashed",
    [
        f"$argon2id$v=19$m=65536,t=3,p=4${_fake_key(16)}${_fake_key(32)}",  # argon2-cffi, pwdlib
        f"$argon2id$v=19$m=131072,t=1,p=32${_fake_key(16)}${_fake_key(32)}",  # Kratos, 16 cores
        f"$argon2id$v=19$m=7168,t=5,p=1${_fake_key(16)}${_fake_key(32)}",  # Keycloak
        f"$argon2id$v=19$m=102400,t=2,p=8${_fake_key(16)}${_fake_key(32)}",  # Django
    ],
    ids=["argon2-cffi", "kratos", "keycloak", "django"],  # random salts: ids the xdist workers agree on
)
def test_argon2_defaults_pass(hashed: str) -> None:
    parse({"format": "argon2", "hash": hashed})


def test_keycloak_pbkdf2_sha512_default_passes() -> None:
    parse({"format": "pbkdf2", "hash": f"$pbkdf2-sha512$i=210000,l=64${_fake_key(16)}${_fake_key(64)}"})


@pytest.mark.parametrize("cost", [10, 11, 12])
def test_bcrypt_usual_costs_pass(cost: int) -> None:
    parse({"format": "bcrypt", "hash": f"$2b${cost:02d}$" + "a" * 53})


def test_firebase_default_passes() -> None:
    assert parse(gen.FIREBASE_VECTOR).value.startswith("$firebase-scrypt$r=8,m=14$")
