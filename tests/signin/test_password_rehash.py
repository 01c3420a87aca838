"""Stored hashes move to the configured scheme at their owner's next sign-in.

Each hash below is made by the library of the system it comes from (bcrypt, argon2-cffi,
werkzeug, Django's hashers, passlib's maintained fork, the firebase_scrypt package, and
Firebase's published vector), stored as an import stores it, then signed in with: the right password opens it and replaces
it, in the sign-in's own transaction, with a hash in the configured scheme; a wrong one changes
nothing. A password change that lands while a sign-in is checking the old hash wins over that
sign-in's rehash. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
from collections.abc import Callable
from typing import Any

import bcrypt
import httpx
import pytest
from argon2 import Type
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from werkzeug.security import generate_password_hash

from authgate.security.hashing.formats import parse
from authgate.storage.migrate import upgrade
from tests.security.hashing import generators as gen
from tests.security.hashing.generators import FIREBASE_PASSWORD, FIREBASE_VECTOR
from tests.support.app import ClientFactory, sql
from tests.support.delivery import MessagingClientFactory
from tests.support.http import STRONG_PASSWORD, bearer, register
from tests.support.mail import Mailbox, link_in
from tests.support.metrics import metrics_text, samples
from tests.support.mfa import Authenticator

EMAIL = "ada@example.com"
PASSWORD = "Imported-Pass-42 \u00e9t\u00e9"  # non-ASCII: every scheme must read the same UTF-8 bytes


def imported(kind: str) -> tuple[dict[str, Any], str]:
    """(the import's `password` object, the password it opens), made by the source's own
    library: bcrypt, argon2-cffi, werkzeug, Django's hashers, passlib, firebase_scrypt."""
    if kind == "authgate-bcrypt-sha256":  # what authgate stored before the keyed pre-hash
        fed = base64.b64encode(hashlib.sha256(PASSWORD.encode()).digest())
        return {"format": "authgate", "hash": bcrypt.hashpw(fed, bcrypt.gensalt(4)).decode()}, PASSWORD
    if kind == "firebase-vector":
        return FIREBASE_VECTOR, FIREBASE_PASSWORD
    source, _, algorithm = kind.partition(":")
    made: dict[str, Callable[[], dict[str, Any]]] = {
        "bcrypt": lambda: {"format": "bcrypt", "hash": gen.bcrypt_hash(b"2b", PASSWORD, rounds=5)},
        "argon2-cffi": lambda: {"format": "argon2", "hash": gen.argon2(ARGON2_TYPES[algorithm], PASSWORD)},
        "werkzeug": lambda: {"format": "werkzeug", "hash": gen.werkzeug(algorithm, PASSWORD)},
        "django": lambda: {"format": "django", "hash": gen.django(algorithm, PASSWORD)},
        "passlib": lambda: {
            "format": "pbkdf2" if "pbkdf2" in algorithm else "scrypt",
            "hash": gen.passlib_hash(algorithm, PASSWORD),
        },
        "firebase_scrypt": lambda: gen.firebase(PASSWORD),
    }
    return made[source](), PASSWORD


ARGON2_TYPES = {"argon2id": Type.ID, "argon2i": Type.I}
KINDS = (
    "bcrypt",
    "authgate-bcrypt-sha256",
    "argon2-cffi:argon2id",
    "argon2-cffi:argon2i",
    "werkzeug:pbkdf2:sha256:1000",
    "werkzeug:scrypt:1024:8:1",
    "django:pbkdf2_sha256",
    "django:pbkdf2_sha1",
    "django:argon2",
    "django:scrypt",
    "django:bcrypt_sha256",
    "django:bcrypt",
    "passlib:pbkdf2_sha512",
    "passlib:scrypt",
    "firebase_scrypt",
    "firebase-vector",
)


async def store_hash(client: httpx.AsyncClient, password: dict[str, Any], email: str = EMAIL) -> str:
    """Give the account the hash as an import would store it; returns its scheme."""
    stored = parse(password)
    await sql(
        client,
        "UPDATE users SET password_hash = :value, password_scheme = :scheme WHERE email_key = :email",
        value=stored.value,
        scheme=stored.scheme,
        email=email,
    )
    return stored.scheme


async def hash_of(client: httpx.AsyncClient, email: str = EMAIL) -> tuple[str, str]:
    rows = await sql(client, "SELECT password_scheme, password_hash FROM users WHERE email_key = :e", e=email)
    return rows[0][0], rows[0][1]


async def rehashes(client: httpx.AsyncClient, scheme: str) -> float:
    """`authgate_password_rehashes_total{from=scheme}`."""
    found = samples(await metrics_text(client), "authgate_password_rehashes_total")
    return found.get((("from", scheme),), 0.0)


@pytest.mark.parametrize("kind", KINDS)
async def test_each_imported_scheme_signs_in_then_moves_to_the_configured_one(
    client: httpx.AsyncClient, kind: str
) -> None:
    await register(client)
    password_object, password = imported(kind)
    scheme = await store_hash(client, password_object)
    before = await hash_of(client)

    wrong = await client.post("/login", json={"email": EMAIL, "password": password + "x"})
    assert wrong.status_code == 401 and wrong.json()["code"] == "invalid_credentials"
    assert await hash_of(client) == before  # a wrong password changes nothing

    right = await client.post("/login", json={"email": EMAIL, "password": password})
    assert right.status_code == 200, right.text
    moved = await hash_of(client)
    assert moved[0] == "bcrypt-hmac-sha256" and moved[1].startswith("$2b$04$")  # the configured scheme and cost
    assert await rehashes(client, scheme) == 1

    again = await client.post("/login", json={"email": EMAIL, "password": password})
    assert again.status_code == 200
    assert await hash_of(client) == moved  # on the configured scheme: left as it is
    assert (await client.post("/login", json={"email": EMAIL, "password": password + "x"})).status_code == 401


async def test_a_plain_bcrypt_hash_refuses_a_password_longer_than_72_bytes_as_a_wrong_one(
    client: httpx.AsyncClient,
) -> None:
    """bcrypt reads 72 bytes: a longer password whose first 72 bytes match must not open a plain
    bcrypt hash (nor raise: the `bcrypt` package refuses such input). 401, counted as a failure."""
    await register(client)
    first72 = "A1b" * 24
    await store_hash(client, {"format": "bcrypt", "hash": bcrypt.hashpw(first72.encode(), bcrypt.gensalt(4)).decode()})
    longer = await client.post("/login", json={"email": EMAIL, "password": first72 + "-and-more"})
    assert longer.status_code == 401 and longer.json()["code"] == "invalid_credentials"
    failures = await sql(client, "SELECT count(*) FROM audit_log WHERE type = 'user.login_failed'")
    assert failures[0][0] == 1
    assert (await client.post("/login", json={"email": EMAIL, "password": first72})).status_code == 200


async def test_pin_and_username_sign_ins_rehash_too(client: httpx.AsyncClient) -> None:
    await register(client, username="ada")
    password_object, password = imported("werkzeug:pbkdf2:sha256:1000")
    await store_hash(client, password_object)
    assert (await client.post("/login", json={"name": "ada", "pin": password})).status_code == 200
    assert (await hash_of(client))[0] == "bcrypt-hmac-sha256"
    await store_hash(client, password_object)
    assert (await client.post("/login", json={"username": "ada", "password": password})).status_code == 200
    assert (await hash_of(client))[0] == "bcrypt-hmac-sha256"


async def test_the_rehash_commits_with_the_second_steps_challenge(client: httpx.AsyncClient) -> None:
    """The password was right: the hash moves even though the sign-in now waits for a code."""
    token = (await register(client)).json()["token"]
    setup = (await client.post("/mfa/setup", headers=bearer(token), json={})).json()
    app = Authenticator(setup["secret"])
    enabled = await client.post("/mfa/enable", headers=bearer(token), json={"verificationCode": await app.code()})
    assert enabled.status_code == 200, enabled.text
    password_object, password = imported("argon2-cffi:argon2id")
    await store_hash(client, password_object)
    pending = await client.post("/login", json={"email": EMAIL, "password": password})
    assert pending.status_code == 401 and pending.json()["code"] == "mfa_required"
    assert (await hash_of(client))[0] == "bcrypt-hmac-sha256"


async def test_argon2id_configured_moves_hashes_both_ways_and_on_new_parameters(make_client: ClientFactory) -> None:
    argon2 = {"password_hash": "argon2id", "argon2_memory_kib": 19456, "argon2_time_cost": 2}
    async with make_client(**argon2) as client:
        await register(client)
        scheme, value = await hash_of(client)
        assert scheme == "argon2id" and value.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
        # A bcrypt hash (the former default) moves to argon2id.
        await register(client, email="bob@example.com")
        await sql(client, "UPDATE users SET password_scheme = 'bcrypt-hmac-sha256', password_hash = :h "
                  "WHERE email_key = 'bob@example.com'", h=bcrypt_hmac(STRONG_PASSWORD))  # fmt: skip
        assert (
            await client.post("/login", json={"email": "bob@example.com", "password": STRONG_PASSWORD})
        ).status_code == 200
        assert (await hash_of(client, "bob@example.com"))[0] == "argon2id"
    # Other argon2 parameters: the next sign-in makes a hash with them.
    async with make_client(**{**argon2, "argon2_time_cost": 3}) as client:
        assert (await client.post("/login", json={"email": EMAIL, "password": STRONG_PASSWORD})).status_code == 200
        assert (await hash_of(client))[1].startswith("$argon2id$v=19$m=19456,t=3,p=1$")
    # And back to bcrypt.
    async with make_client() as client:
        assert (await client.post("/login", json={"email": EMAIL, "password": STRONG_PASSWORD})).status_code == 200
        scheme, value = await hash_of(client)
        assert scheme == "bcrypt-hmac-sha256" and value.startswith("$2b$04$")


def bcrypt_hmac(password: str, salt: bytes | None = None) -> str:
    """authgate's bcrypt scheme, made here from its definition with the bcrypt package:
    bcrypt over base64(HMAC-SHA256(key = the 22-character salt, password))."""
    salt = salt or bcrypt.gensalt(4)
    fed = base64.b64encode(hmac.new(salt[7:29], password.encode(), hashlib.sha256).digest())
    return bcrypt.hashpw(fed, salt).decode()


async def test_authgates_bcrypt_scheme_is_bcrypt_over_a_salt_keyed_hmac(client: httpx.AsyncClient) -> None:
    """The stored hash is what the definition gives: another implementation can check it."""
    await register(client)
    _, value = await hash_of(client)
    assert bcrypt_hmac(STRONG_PASSWORD, salt=value[:29].encode()) == value


async def test_unknown_accounts_check_the_configured_schemes_dummy_hash(make_client: ClientFactory) -> None:
    """Same time for unknown accounts as for wrong passwords: the dummy hash is argon2id too."""
    async with make_client(password_hash="argon2id", argon2_memory_kib=19456, argon2_time_cost=2) as client:
        answer = await client.post("/login", json={"email": "ghost@example.com", "password": STRONG_PASSWORD})
        assert answer.status_code == 401
        checks = samples(await metrics_text(client), "authgate_password_hash_seconds_count")
        assert checks == {(("op", "verify"), ("scheme", "argon2id")): 1.0}


async def test_password_reset_during_a_sign_in_wins_over_its_rehash(
    messaging_client: MessagingClientFactory, mailbox: Mailbox
) -> None:
    """Rehash guarded by the old hash: a sign-in checks a slow imported hash (over a second);
    meanwhile the owner, holding a reset link already, resets the password. The sign-in still
    succeeds, but its rehash of the old password must not overwrite the new one."""
    async with messaging_client() as client:
        await register(client)
        await sql(client, "UPDATE users SET email_verified = true")
        assert (await client.post("/password/forgot", json={"email": EMAIL})).status_code == 202
        reset = link_in(await mailbox.wait_for(EMAIL), "/password/reset/")
        slow = {"format": "werkzeug", "hash": generate_password_hash(PASSWORD, "pbkdf2:sha256:3000000")}
        await store_hash(client, slow)
        signing_in = asyncio.create_task(client.post("/login", json={"email": EMAIL, "password": PASSWORD}))
        await asyncio.sleep(0.2)  # into the check of the slow hash
        assert (await client.post(reset, json={"password": "Brand-New-Pass-77"})).status_code == 200
        assert not signing_in.done()  # the reset committed while the sign-in was still checking
        assert (await signing_in).status_code == 200
        assert (await hash_of(client))[0] == "bcrypt-hmac-sha256"
        assert (await client.post("/login", json={"email": EMAIL, "password": "Brand-New-Pass-77"})).status_code == 200
        assert (await client.post("/login", json={"email": EMAIL, "password": PASSWORD})).status_code == 401
        assert await rehashes(client, "pbkdf2-sha256") == 0


async def test_upgrade_marks_existing_hashes_as_the_old_scheme_and_their_owners_still_sign_in(
    migration_engine: AsyncEngine, make_client: ClientFactory
) -> None:
    await upgrade(migration_engine, "0012")
    fed = base64.b64encode(hashlib.sha256(STRONG_PASSWORD.encode()).digest())
    old = bcrypt.hashpw(fed, bcrypt.gensalt(4)).decode()  # authgate's hash before this change
    async with migration_engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO users (id, email, email_key, role, password_hash, email_verified, phone_verified,"
                " mfa_enabled, disabled, created_at, updated_at) VALUES ('u1', :e, :e, 'user', :h, :no, :no, :no,"
                " :no, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            ),
            {"e": EMAIL, "h": old, "no": False},
        )
    await upgrade(migration_engine)
    async with make_client(database_url=migration_engine.url.render_as_string(hide_password=False)) as client:
        assert await hash_of(client) == ("bcrypt-sha256", old)
        assert (await client.post("/login", json={"email": EMAIL, "password": STRONG_PASSWORD})).status_code == 200
        assert (await hash_of(client))[0] == "bcrypt-hmac-sha256"
