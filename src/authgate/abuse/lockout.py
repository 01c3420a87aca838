"""Account lockout: consecutive failed checks of a secret lock their subject for a while.

A subject is an account (`account:<id>`) or, when the identifier names no account, the
identifier itself (`email:<key>`): unknown identifiers lock exactly like real ones, so a
lockout tells nothing about who has an account.

The counting is exact under parallel requests. Before a secret is checked, the attempt is
admitted only while the failures so far plus the checks still running are under the
threshold; otherwise it waits for a running check to end, so 20 parallel wrong passwords
against a threshold of 5 run at most 5 checks (the others find the lock), and 20 parallel
right ones all sign in, 5 at a time.
Each check then ends as a failure (counted; the one that reaches the threshold locks), a
release (neither: the first factor was right and the second is still to come), or a success
(the sign-in completed: the failures are forgotten). A lock lasts `AUTHGATE_LOCKOUT_SECONDS`,
doubling with each lock in a row, up to a day; failures and locks are forgotten after a
quiet day.

The state is kept in this process, or in Redis when `AUTHGATE_REDIS_URL` is set, so that
every node shares it. When Redis does not answer, the checks it guards are refused (503):
a lockout fails closed (docs/abuse-protection.md).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from authgate.abuse.limiter import hashed
from authgate.errors import account_locked, rate_limited, temporarily_unavailable
from authgate.observability.logging import get_logger

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = get_logger("authgate.abuse")

FORGET_SECONDS = 86_400  # failures and lock streaks are forgotten after a quiet day
MAX_LOCK_SECONDS = 86_400
IN_FLIGHT_SECONDS = 120  # a check still "running" after this long is taken to have died with its process
BUSY = 0.0  # admit: no lock, but the checks running could still reach the threshold
BUSY_WAIT_SECONDS = 10.0  # how long a check waits for running ones to end before giving up


def account(user_id: str) -> str:
    return f"account:{user_id}"


def identifier(kind: str, key: str) -> str:
    """An identifier as it was typed, normalised (`email`, `username` or `phone`)."""
    return f"{kind}:{key}"


def subject(user_id: str | None, *, kind: str, key: str) -> str:
    """Whose failures a check counts against: the account the identifier names, if it names
    one, else the identifier itself."""
    return account(user_id) if user_id is not None else identifier(kind, key)


@dataclass(frozen=True)
class Policy:
    threshold: int
    base_seconds: float
    max_seconds: float = MAX_LOCK_SECONDS

    def duration(self, strikes: int) -> float:
        """How long the `strikes`-th lock in a row lasts (1 for the first)."""
        return float(min(self.max_seconds, self.base_seconds * 2 ** max(0, strikes - 1)))


class LockoutState(Protocol):
    """Where the counts live; each call is atomic. Times are in seconds."""

    async def admit(self, key: str, policy: Policy) -> float | None:
        """None, counting the check as running; BUSY when the checks already running could
        still reach the threshold (no lock yet: ask again when one ends); or how long the
        subject stays locked."""
        ...

    async def failed(self, key: str, policy: Policy) -> float | None:
        """A running check failed: how long the subject is now locked, if this failure locked it."""
        ...

    async def release(self, key: str) -> None:
        """A running check ended neither way."""
        ...

    async def succeeded(self, key: str) -> None:
        """The subject signed in: its failures are forgotten (the lock streak is not)."""
        ...

    async def locked_for(self, key: str) -> float | None:
        """How long the subject stays locked, if it is."""
        ...

    async def locked_for_many(self, keys: Sequence[str]) -> list[float | None]:
        """`locked_for` of each key, in order, in one call (a page of accounts)."""
        ...

    async def unlock(self, key: str) -> bool:
        """Forget everything about the subject; True if it was locked."""
        ...

    async def claim(self, key: str, ttl_seconds: int) -> bool:
        """True the first time `key` is claimed within `ttl_seconds` (single-use things)."""
        ...


@dataclass
class _Entry:
    failures: int = 0
    strikes: int = 0
    locked_until: float = 0.0
    running: int = 0
    forget_at: float = 0.0


class MemoryLockoutState:
    """One process's counts. Entries nobody touched for a day are swept out as the map grows."""

    def __init__(self) -> None:
        self.entries: dict[str, _Entry] = {}
        self.claims: dict[str, float] = {}
        self.sweep_at = 1024

    def _entry(self, key: str, now: float) -> _Entry:
        if len(self.entries) >= self.sweep_at:
            self.entries = {k: e for k, e in self.entries.items() if e.forget_at > now or e.running}
            self.claims = {k: t for k, t in self.claims.items() if t > now}
            self.sweep_at = max(1024, 2 * len(self.entries))
        entry = self.entries.get(key)
        if entry is None or (entry.forget_at <= now and not entry.running):
            entry = self.entries[key] = _Entry(forget_at=now + FORGET_SECONDS)
        return entry

    async def admit(self, key: str, policy: Policy) -> float | None:
        now = time.time()
        entry = self._entry(key, now)
        if entry.locked_until > now:
            return entry.locked_until - now
        if entry.failures + entry.running >= policy.threshold:
            return BUSY
        entry.running += 1
        return None

    async def failed(self, key: str, policy: Policy) -> float | None:
        now = time.time()
        entry = self._entry(key, now)
        entry.running = max(0, entry.running - 1)
        if entry.locked_until > now:
            return None
        entry.failures += 1
        entry.forget_at = now + FORGET_SECONDS
        if entry.failures < policy.threshold:
            return None
        entry.strikes += 1
        duration = policy.duration(entry.strikes)
        entry.failures, entry.locked_until = 0, now + duration
        entry.forget_at = now + max(FORGET_SECONDS, duration)
        return duration

    async def release(self, key: str) -> None:
        entry = self.entries.get(key)
        if entry is not None:
            entry.running = max(0, entry.running - 1)

    async def succeeded(self, key: str) -> None:
        entry = self.entries.get(key)
        if entry is not None:
            entry.failures = 0

    async def locked_for(self, key: str) -> float | None:
        entry = self.entries.get(key)
        now = time.time()
        return entry.locked_until - now if entry is not None and entry.locked_until > now else None

    async def locked_for_many(self, keys: Sequence[str]) -> list[float | None]:
        return [await self.locked_for(key) for key in keys]

    async def unlock(self, key: str) -> bool:
        entry = self.entries.pop(key, None)
        return entry is not None and entry.locked_until > time.time()

    async def claim(self, key: str, ttl_seconds: int) -> bool:
        now = time.time()
        if self.claims.get(key, 0.0) > now:
            return False
        self.claims[key] = now + ttl_seconds
        return True


# Redis: one hash per subject (f = failures, s = lock streak, u = locked until) and a counter
# of running checks with a short expiry, so a check whose process died stops counting. Time
# is Redis's own clock, so that every node judges a lock alike.
_NOW = "local t = redis.call('TIME') local now = tonumber(t[1]) + tonumber(t[2]) / 1000000 "
_ADMIT = (
    _NOW
    + """
local locked = tonumber(redis.call('HGET', KEYS[1], 'u') or '0')
if locked > now then return tostring(locked - now) end
local failures = tonumber(redis.call('HGET', KEYS[1], 'f') or '0')
local running = tonumber(redis.call('GET', KEYS[2]) or '0')
if failures + running >= tonumber(ARGV[1]) then return 'busy' end
redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[2])
return false
"""
)
_RELEASE = """
if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then redis.call('DECR', KEYS[1]) end
return false
"""
_FAILED = (
    _NOW
    + """
if tonumber(redis.call('GET', KEYS[2]) or '0') > 0 then redis.call('DECR', KEYS[2]) end
local locked = tonumber(redis.call('HGET', KEYS[1], 'u') or '0')
if locked > now then return false end
local failures = redis.call('HINCRBY', KEYS[1], 'f', 1)
if failures < tonumber(ARGV[1]) then
  redis.call('EXPIRE', KEYS[1], ARGV[5])
  return false
end
local strikes = redis.call('HINCRBY', KEYS[1], 's', 1)
local duration = math.min(tonumber(ARGV[3]), tonumber(ARGV[2]) * 2 ^ (strikes - 1))
redis.call('HSET', KEYS[1], 'f', 0, 'u', tostring(now + duration))
redis.call('EXPIRE', KEYS[1], math.ceil(math.max(tonumber(ARGV[5]), duration)))
return tostring(duration)
"""
)
_LOCKED_FOR = (
    _NOW
    + """
local locked = tonumber(redis.call('HGET', KEYS[1], 'u') or '0')
if locked > now then return tostring(locked - now) end
return false
"""
)
_LOCKED_FOR_MANY = (
    _NOW
    + """
local out = {}
for i, key in ipairs(KEYS) do
  local locked = tonumber(redis.call('HGET', key, 'u') or '0')
  if locked > now then out[i] = tostring(locked - now) else out[i] = false end
end
return out
"""
)


class RedisLockoutState:
    def __init__(self, redis: Redis, prefix: str = "authgate:") -> None:
        self.redis = redis
        self.prefix = prefix + "lockout:"
        self._admit = redis.register_script(_ADMIT)
        self._failed = redis.register_script(_FAILED)
        self._release = redis.register_script(_RELEASE)
        self._locked_for = redis.register_script(_LOCKED_FOR)
        self._locked_for_many = redis.register_script(_LOCKED_FOR_MANY)

    def _keys(self, key: str) -> list[str]:
        base = self.prefix + hashed(key)
        return [base, base + ":running"]

    async def admit(self, key: str, policy: Policy) -> float | None:
        reply = await self._admit(keys=self._keys(key), args=[policy.threshold, IN_FLIGHT_SECONDS])
        return BUSY if reply == b"busy" else _seconds(reply)

    async def failed(self, key: str, policy: Policy) -> float | None:
        args = [policy.threshold, policy.base_seconds, policy.max_seconds, IN_FLIGHT_SECONDS, FORGET_SECONDS]
        return _seconds(await self._failed(keys=self._keys(key), args=args))

    async def release(self, key: str) -> None:
        await self._release(keys=self._keys(key)[1:])

    async def succeeded(self, key: str) -> None:
        state = self._keys(key)[0]
        if await self.redis.exists(state):
            await self.redis.hset(state, "f", 0)

    async def locked_for(self, key: str) -> float | None:
        return _seconds(await self._locked_for(keys=self._keys(key)[:1]))

    async def locked_for_many(self, keys: Sequence[str]) -> list[float | None]:
        if not keys:
            return []
        replies = await self._locked_for_many(keys=[self._keys(key)[0] for key in keys])
        return [_seconds(reply) for reply in replies]

    async def unlock(self, key: str) -> bool:
        locked = await self.locked_for(key)
        await self.redis.delete(*self._keys(key))
        return locked is not None

    async def claim(self, key: str, ttl_seconds: int) -> bool:
        return bool(await self.redis.set(self.prefix + "claim:" + hashed(key), 1, nx=True, ex=ttl_seconds))


def _seconds(reply: object) -> float | None:
    if reply is None:
        return None
    value = float(reply.decode() if isinstance(reply, bytes) else str(reply))
    return value if math.isfinite(value) and value > 0 else None


class _Line:
    """This process's checks of one subject that wait for a place, in the order they came."""

    __slots__ = ("ended", "turn", "waiting")

    def __init__(self) -> None:
        self.turn = asyncio.Lock()  # held by the first in line, the one that asks; FIFO
        self.ended = asyncio.Event()  # a check of the subject ended in this process
        self.waiting = 0


class Lockout:
    """The lockout as the sign-in gate uses it: the policy from settings, what to do when the
    shared state does not answer, and the line of checks waiting for a place."""

    def __init__(self, state: LockoutState, *, threshold: int, base_seconds: float) -> None:
        self.state = state
        self.policy = Policy(threshold=threshold, base_seconds=base_seconds)
        self._lines: dict[str, _Line] = {}

    async def admit(self, subject: str) -> None:
        """Let one check of a secret for `subject` run, or refuse: 429 `account_locked`.
        While the checks already running could still lock the subject, wait for them: right
        passwords typed in parallel (several devices, a retrying client) all get their turn,
        and wrong ones find the lock their predecessors set.

        Waiting checks queue in the order they came: only the first in line asks again, as
        soon as a check of the subject ends in this process (or, for those running in other
        processes, every `pause`). Asking on a timer alone let the newest ask most often, so
        under a steady stream of sign-ins the oldest waited until they were refused."""
        deadline = time.monotonic() + BUSY_WAIT_SECONDS
        line = self._lines.get(subject)
        if line is None:  # nobody here waits for this subject: ask at once
            wait = await self._ask(subject)
            if wait is None:
                return
            line = self._lines.setdefault(subject, _Line())
        line.waiting += 1
        try:
            try:
                async with asyncio.timeout(deadline - time.monotonic()):
                    await line.turn.acquire()
            except TimeoutError:
                raise rate_limited(retry_after=1, limit=self.policy.threshold) from None
            try:
                await self._first_in_line(subject, line, deadline)
            finally:
                line.turn.release()
        finally:
            line.waiting -= 1
            if not line.waiting:
                del self._lines[subject]

    async def _first_in_line(self, subject: str, line: _Line, deadline: float) -> None:
        pause = 0.01
        while True:
            line.ended.clear()
            if await self._ask(subject) is None:
                return
            left = deadline - time.monotonic()
            if left <= 0:
                raise rate_limited(retry_after=1, limit=self.policy.threshold)
            try:
                async with asyncio.timeout(min(pause, left)):
                    await line.ended.wait()
                pause = 0.01  # a check ended here
            except TimeoutError:
                pause = min(2 * pause, 0.2)  # for the checks that end in other processes

    async def _ask(self, subject: str) -> float | None:
        """The state's answer: None (admitted) or BUSY; a lock refuses."""
        try:
            wait = await self.state.admit(subject, self.policy)
        except Exception as exc:
            raise self._unavailable(exc) from None
        if wait is not None and wait != BUSY:
            raise account_locked(wait)
        return wait

    def _ended(self, subject: str) -> None:
        line = self._lines.get(subject)
        if line is not None:
            line.ended.set()

    async def failed(self, subject: str) -> float | None:
        """Count the failed check; how long `subject` is now locked, if this failure locked it."""
        try:
            return await self.state.failed(subject, self.policy)
        except Exception as exc:
            raise self._unavailable(exc) from None
        finally:
            self._ended(subject)

    async def release(self, subject: str) -> None:
        try:
            await self.state.release(subject)
        except Exception as exc:  # it expires on its own (IN_FLIGHT_SECONDS)
            log.warning("lockout_release_failed", reason=type(exc).__name__)
        self._ended(subject)

    async def succeeded(self, subject: str) -> None:
        try:
            await self.state.succeeded(subject)
        except Exception as exc:
            log.warning("lockout_reset_failed", reason=type(exc).__name__)
        self._ended(subject)  # its failures are forgotten: more checks may run now

    async def refuse_if_locked(self, subject: str) -> None:
        """For ways in that check no guessable secret (a link, a provider): a locked account
        stays locked for them too."""
        try:
            wait = await self.state.locked_for(subject)
        except Exception as exc:
            raise self._unavailable(exc) from None
        if wait is not None:
            raise account_locked(wait)

    async def locked_for_many(self, subjects: Sequence[str]) -> list[float | None]:
        """How long each subject stays locked (None: not locked), for showing; one call to the
        state whatever their number. 503 when the state does not answer: a lock is never
        shown as absent because it could not be read."""
        try:
            return await self.state.locked_for_many(subjects)
        except Exception as exc:
            log.error("lockout_unavailable", reason=type(exc).__name__)
            raise temporarily_unavailable("Lockouts cannot be read just now. Try again in a few seconds.") from None

    async def unlock(self, subject: str) -> bool:
        try:
            return await self.state.unlock(subject)
        except Exception as exc:
            raise self._unavailable(exc) from None

    def _unavailable(self, exc: Exception) -> Exception:
        log.error("lockout_unavailable", reason=type(exc).__name__)
        return temporarily_unavailable("Sign-in is briefly unavailable. Try again in a few seconds.")
