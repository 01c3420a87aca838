"""Password hashing and policy (pure functions; the hasher's pool)."""

from __future__ import annotations

import asyncio
import threading

from authgate.security.passwords import (
    PasswordHasher,
    PasswordPolicy,
    common_passwords,
    hash_password_sync,
    hash_rounds,
    verify_password_sync,
)
from authgate.settings import Settings


def test_default_cost_is_12() -> None:
    settings = Settings(_env_file=None, jwt_secret="s" * 40)  # type: ignore[call-arg]
    assert settings.bcrypt_rounds == 12
    hashed = hash_password_sync("Sturdy-Horse-42", settings.bcrypt_rounds)
    assert hash_rounds(hashed) == 12
    assert verify_password_sync("Sturdy-Horse-42", hashed)


def test_bytes_after_72_count_and_nul_does_not_truncate() -> None:
    long = "A1a" + "x" * 100
    hashed = hash_password_sync(long, 4)
    assert verify_password_sync(long, hashed)
    assert not verify_password_sync(long[:72], hashed)
    assert not verify_password_sync(long[:-1] + "y", hashed)
    with_nul = hash_password_sync("abc\x00def", 4)
    assert not verify_password_sync("abc", with_nul)


def test_verify_never_raises_on_garbage_hashes() -> None:
    assert not verify_password_sync("x", "not-a-hash")
    assert not verify_password_sync("x", "")


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


async def test_hashing_runs_off_the_event_loop() -> None:
    hasher = PasswordHasher(rounds=12, workers=2)
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
        assert await hasher.verify("Sturdy-Horse-42", task.result())
        assert not await hasher.verify("Sturdy-Horse-42", None)
    finally:
        hasher.close()
