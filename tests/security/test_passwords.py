"""Password hashing and policy (pure functions; the hasher's pool)."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass

from authgate.security import hashing
from authgate.security.hashing import HashPolicy, StoredHash
from authgate.security.hashing.bcrypt_family import cost
from authgate.security.passwords import PasswordHasher, PasswordPolicy, common_passwords
from authgate.settings import Settings


def test_default_is_bcrypt_cost_12_over_a_keyed_prehash() -> None:
    settings = Settings(_env_file=None, jwt_secret="s" * 40)  # type: ignore[call-arg]
    assert (settings.password_hash, settings.bcrypt_rounds) == ("bcrypt", 12)
    stored = HashPolicy(settings.password_hash, settings.bcrypt_rounds).make("Sturdy-Horse-42")
    assert stored.scheme == "bcrypt-hmac-sha256" and cost(stored.value) == 12
    assert hashing.verify(stored.scheme, "Sturdy-Horse-42", stored.value)


def test_bytes_after_72_count_and_nul_does_not_truncate() -> None:
    policy = HashPolicy(bcrypt_rounds=4)
    long = "A1a" + "x" * 100
    stored = policy.make(long)
    assert hashing.verify(stored.scheme, long, stored.value)
    assert not hashing.verify(stored.scheme, long[:72], stored.value)
    assert not hashing.verify(stored.scheme, long[:-1] + "y", stored.value)
    with_nul = policy.make("abc\x00def")
    assert not hashing.verify(with_nul.scheme, "abc", with_nul.value)


def test_the_prehash_is_keyed_by_the_salt() -> None:
    """Shucking: the bcrypt input is not an unkeyed SHA-256 anyone may hold from a leak
    elsewhere. The same hash checked as authgate's old unkeyed scheme does not open."""
    stored = HashPolicy(bcrypt_rounds=4).make("Sturdy-Horse-42")
    assert not hashing.verify("bcrypt-sha256", "Sturdy-Horse-42", stored.value)


def test_verify_never_raises_on_garbage_hashes() -> None:
    for scheme in hashing.SCHEMES:
        assert not hashing.verify(scheme, "x", "not-a-hash")
        assert not hashing.verify(scheme, "x", "")
    assert not hashing.verify("no-such-scheme", "x", "$2b$04$" + "a" * 53)


def test_common_list_has_at_least_ten_thousand_entries() -> None:
    words = common_passwords()
    assert len(words) >= 10_000
    assert all(word in words for word in ("password", "123456", "qwerty", "letmein", "pic's"))
    assert "Sturdy-Horse-42".lower() not in words and 123456 not in words


def test_common_list_holds_exactly_zxcvbns_passwords() -> None:
    """The compact set read from zxcvbn's data file answers as the list zxcvbn builds itself."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS  # builds every list: fine in a test

    listed = {word.lower() for word in FREQUENCY_LISTS["passwords"]}
    words = common_passwords()
    assert len(words) == len(listed)
    assert all(word in words for word in listed)
    others = {word.lower() for name, rest in FREQUENCY_LISTS.items() if name != "passwords" for word in rest}
    assert not any(word in words for word in others - listed)


def test_policy_reasons() -> None:
    policy = PasswordPolicy()
    assert policy.problems("Sturdy-Horse-42") == []
    assert policy.problems("short")
    assert policy.problems("PASSWORD123") and policy.problems("Password123")
    assert policy.problems("Jane.Doe99@x.io", email="jane.doe99@x.io")
    pin = PasswordPolicy(min_length=4, require_mixed=False, block_common=False)
    assert pin.problems("0000") == []


@dataclass
class Account:
    password_hash: str | None
    password_scheme: str | None


async def test_hashing_runs_off_the_event_loop() -> None:
    hasher = PasswordHasher(HashPolicy(bcrypt_rounds=12), workers=2)
    threads: set[str] = set()
    loop_thread = threading.current_thread().name
    try:
        task = asyncio.create_task(hasher.hash("Sturdy-Horse-42"))
        ticks = 0
        while not task.done():
            await asyncio.sleep(0.005)
            ticks += 1
            threads.add(threading.current_thread().name)
        # The loop kept turning while a cost-12 hash ran: it was not blocked.
        assert ticks >= 3
        assert threads == {loop_thread}
        stored: StoredHash = task.result()
        account = Account(password_hash=stored.value, password_scheme=stored.scheme)
        assert await hasher.verify("Sturdy-Horse-42", account)
        assert not await hasher.verify("Sturdy-Horse-42", None)
    finally:
        hasher.close()
