"""The contract every lockout state keeps (in this process, and in Redis), run against both:
atomic admission under concurrency, the lock at the threshold, growth, release, success,
unlock and single-use claims."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from authgate.abuse.lockout import BUSY, Lockout, LockoutState, MemoryLockoutState, Policy, RedisLockoutState

POLICY = Policy(threshold=5, base_seconds=60)


@pytest.fixture
async def state(counts_in: tuple[str, str] | None) -> AsyncIterator[LockoutState]:
    where = counts_in
    if where is None:
        yield MemoryLockoutState()
        return
    client = aioredis.Redis.from_url(where[0])
    try:
        yield RedisLockoutState(client, where[1])
    finally:
        await client.aclose()


async def test_parallel_admissions_stop_at_the_threshold(state: LockoutState) -> None:
    admitted = await asyncio.gather(*(state.admit("account:a", POLICY) for _ in range(20)))
    assert sum(wait is None for wait in admitted) == 5
    assert all(wait == BUSY for wait in admitted if wait is not None)  # not locked: wait for a place


async def test_the_threshold_th_failure_locks(state: LockoutState) -> None:
    for n in range(5):
        assert await state.admit("account:a", POLICY) is None
        locked = await state.failed("account:a", POLICY)
        assert (locked is None) == (n < 4)
    assert locked == 60
    wait = await state.locked_for("account:a")
    assert wait is not None and 58 < wait <= 60
    locked_wait = await state.admit("account:a", POLICY)
    assert locked_wait is not None and locked_wait > 58
    assert await state.locked_for("account:b") is None  # subjects are apart


async def test_many_subjects_are_read_in_one_call(state: LockoutState) -> None:
    for _ in range(5):
        assert await state.admit("account:a", POLICY) is None
        await state.failed("account:a", POLICY)
    assert await state.admit("account:c", POLICY) is None
    await state.failed("account:c", POLICY)  # one failure: not locked
    waits = await state.locked_for_many(["account:b", "account:a", "account:c"])
    assert waits[0] is None and waits[2] is None
    assert waits[1] is not None and 58 < waits[1] <= 60
    assert await state.locked_for_many([]) == []


async def test_released_checks_free_their_place(state: LockoutState) -> None:
    for _ in range(5):
        assert await state.admit("account:a", POLICY) is None
    assert await state.admit("account:a", POLICY) == BUSY
    await state.release("account:a")
    assert await state.admit("account:a", POLICY) is None
    await state.release("account:a")
    await state.release("account:a")  # never below zero
    for _ in range(5):
        await state.release("account:a")
    for _ in range(5):
        assert await state.admit("account:a", POLICY) is None


async def test_success_forgets_failures(state: LockoutState) -> None:
    for _ in range(4):
        await state.admit("account:a", POLICY)
        await state.failed("account:a", POLICY)
    await state.succeeded("account:a")
    for _ in range(4):
        assert await state.admit("account:a", POLICY) is None
        assert await state.failed("account:a", POLICY) is None


async def test_locks_in_a_row_grow(state: LockoutState) -> None:
    quick = Policy(threshold=1, base_seconds=0.2, max_seconds=0.5)
    durations = []
    for _ in range(4):
        assert await state.admit("account:a", quick) is None
        durations.append(await state.failed("account:a", quick))
        await asyncio.sleep(durations[-1] or 0)
        while await state.locked_for("account:a") is not None:
            await asyncio.sleep(0.05)
    assert durations == [pytest.approx(0.2), pytest.approx(0.4), pytest.approx(0.5), pytest.approx(0.5)]


async def test_failures_during_a_lock_do_not_count_toward_the_next(state: LockoutState) -> None:
    for _ in range(5):
        await state.admit("account:a", POLICY)
    for _ in range(5):
        await state.failed("account:a", POLICY)
    assert await state.unlock("account:a") is True
    assert await state.unlock("account:a") is False
    for _ in range(4):
        assert await state.admit("account:a", POLICY) is None
        assert await state.failed("account:a", POLICY) is None


async def test_a_claim_is_granted_once(state: LockoutState) -> None:
    results = await asyncio.gather(*(state.claim("altcha:xyz", 60) for _ in range(10)))
    assert results.count(True) == 1
    assert await state.claim("altcha:other", 60) is True


async def test_checks_waiting_for_a_place_get_it_in_the_order_they_came(state: LockoutState) -> None:
    """The oldest waiting check takes the next place, however long it has waited and however
    many came after it. (Each used to ask again on its own timer, doubling to 200 ms, so the
    newest asked most often: under a steady stream of right passwords the oldest waited until
    they were refused, 429 after ten seconds.)"""
    lockout = Lockout(state, threshold=2, base_seconds=60)
    await lockout.admit("account:a")
    await lockout.admit("account:a")  # both places taken
    admitted: list[str] = []

    async def check(name: str) -> None:
        await lockout.admit("account:a")
        admitted.append(name)

    oldest = asyncio.create_task(check("oldest"))
    await asyncio.sleep(0.5)  # long enough for a timer to have doubled to its longest
    newer = [asyncio.create_task(check(f"newer {n}")) for n in range(3)]
    await asyncio.sleep(0.05)
    for count in range(1, 5):
        await lockout.release("account:a")  # one place at a time
        async with asyncio.timeout(5):
            while len(admitted) < count:
                await asyncio.sleep(0.005)
    await asyncio.wait_for(asyncio.gather(oldest, *newer), 5)
    assert admitted == ["oldest", "newer 0", "newer 1", "newer 2"]
