"""Checking and making password hashes off the event loop, and the password policy.

The schemes themselves live in `security/hashing/`. Hashing is CPU-bound and slow by design,
so `PasswordHasher` runs it in a thread pool sized to the cores (bcrypt and argon2 release the
GIL) and never on the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import importlib.util
import mmap
import os
import re
import secrets
import sys
import threading
import time
from array import array
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol, TypeVar

from authgate.errors import said
from authgate.security import hashing
from authgate.security.hashing import HashPolicy, StoredHash

MAX_PASSWORD_CHARS = 1024  # far above any real password; the body limit stops worse earlier

T = TypeVar("T")

HASHING_NICENESS = 10  # scheduler weight about a tenth of the event loop's (nice 0)


def _yield_to_requests() -> None:
    """Run in each hashing thread as it starts: lower the thread's scheduling priority (Linux
    gives every thread its own nice value), so that while logins keep every core hashing, the
    event loop still gets a core the moment it has a request to answer. Hashing loses nothing
    when the loop is idle: an idle core goes to it whatever its priority."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASHING_NICENESS)


class HoldsPassword(Protocol):
    """An account as far as its password goes (storage's `User`)."""

    @property
    def password_hash(self) -> str | None: ...
    @property
    def password_scheme(self) -> str | None: ...


def stored_hash(account: HoldsPassword | None) -> StoredHash | None:
    """The account's hash with its scheme, if it has a password."""
    if account is None or account.password_hash is None or account.password_scheme is None:
        return None
    return StoredHash(account.password_scheme, account.password_hash)


class PasswordHasher:
    """Hashes and verifies off the event loop, in a pool sized to the cores, at a lower
    scheduling priority than the loop (see `_yield_to_requests`). New hashes follow the
    configured `policy`; a check understands every scheme."""

    def __init__(
        self,
        policy: HashPolicy,
        workers: int,
        observe: Callable[[str, str, float], None] | None = None,
    ) -> None:
        self.policy = policy
        self._pool = ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix="hashing", initializer=_yield_to_requests
        )
        self._observe = observe or (lambda _op, _scheme, _seconds: None)
        # A real hash of a random password in the configured scheme, checked when the account
        # does not exist (or has no password), so that unknown accounts cost the same time as
        # wrong passwords of accounts on the configured scheme.
        self._dummy = policy.make(secrets.token_urlsafe(16))

    async def _run(self, op: str, scheme: str, fn: Callable[[], T]) -> T:
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        try:
            return await loop.run_in_executor(self._pool, fn)
        finally:
            self._observe(op, scheme, time.perf_counter() - started)

    async def hash(self, password: str) -> StoredHash:
        """A new hash of `password` in the configured scheme."""
        return await self._run("hash", self.policy.scheme, lambda: self.policy.make(password))

    async def verify(self, password: str, account: HoldsPassword | None) -> bool:
        """Check `password` against the account's hash, whatever its scheme; with no account or
        no password, spend the same time on the dummy hash and answer False."""
        stored = stored_hash(account)
        target = stored or self._dummy
        ok = await self._run("verify", target.scheme, lambda: hashing.verify(target.scheme, password, target.value))
        return ok and stored is not None

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class DigestSet:
    """A set of strings kept as 8-byte BLAKE2b digests in one open-addressed table (512 KB for
    30,000 strings, where a frozenset of the strings takes about 3.8 MB). A string not in the
    set is taken for one with odds of about 30,000 in 2**64."""

    def __init__(self, slots: int) -> None:
        self._mask = slots - 1  # slots: a power of two, at least twice the strings held
        self._table = array("Q", bytes(8 * slots))  # 0: an empty slot
        self._count = 0

    @staticmethod
    def _digest(word: bytes) -> int:
        return int.from_bytes(hashlib.blake2b(word, digest_size=8).digest(), "big") or 1

    def _slot(self, digest: int) -> int:
        slot = digest & self._mask
        while self._table[slot] not in (0, digest):
            slot = (slot + 1) & self._mask
        return slot

    def add(self, word: str) -> None:
        digest = self._digest(word.encode("utf-8"))
        slot = self._slot(digest)
        if self._table[slot] == 0:
            self._table[slot] = digest
            self._count += 1

    def __contains__(self, word: object) -> bool:
        if not isinstance(word, str):
            return False
        digest = self._digest(word.encode("utf-8"))
        return self._table[self._slot(digest)] == digest

    def __len__(self) -> int:
        return self._count


_LISTED_WORD = re.compile(rb"[^,]+")


@lru_cache(maxsize=1)
def common_passwords() -> DigestSet:
    """The 30,000 most common passwords, lower-cased, as the zxcvbn package ships them.

    Read from the package's data file, not imported: importing it builds every one of its
    word lists (about 16 MB per process, most of an idle worker's budget) for the one we use.
    The file is mapped, not read, and the words are taken from it one at a time into a
    `DigestSet`: neither a copy of the list's 240 KB line nor 30,000 strings at once, so the
    heap is left as it was (a frozenset of the strings, with the heap left from reading them,
    cost a worker about 5 MB more; bench/RESULTS.md)."""
    spec = importlib.util.find_spec("zxcvbn")  # finds the package without running it
    assert spec is not None and spec.submodule_search_locations
    path = Path(spec.submodule_search_locations[0], "frequency_lists.py")
    with path.open("rb") as source, mmap.mmap(source.fileno(), 0, access=mmap.ACCESS_READ) as data:
        # The line reads `"passwords": "123456,password,...".split(","),`: the words of the literal.
        key = b'"passwords": "'
        start = data.find(key) + len(key)
        end = data.find(b'".split(",")', start)
        assert start >= len(key) and end > start, "zxcvbn's data file has changed its layout"
        count = sum(1 for _ in _LISTED_WORD.finditer(data, start, end))
        words = DigestSet(1 << (2 * count).bit_length())
        for match in _LISTED_WORD.finditer(data, start, end):
            words.add(match.group().decode("unicode_escape").lower())  # the list writes ' as \'
    return words


@dataclass(frozen=True)
class PasswordPolicy:
    min_length: int = 8
    require_mixed: bool = True
    block_common: bool = True
    max_length: int = MAX_PASSWORD_CHARS

    def problems(self, password: str, *, email: str | None = None, username: str | None = None) -> list[str]:
        """Every reason the password is refused, in words a user can act on (each a message the
        pages translate); empty if fine."""
        if len(password) > self.max_length:
            return [said("Password must be at most %(maximum)s characters.", maximum=self.max_length)]
        found: list[str] = []
        if len(password) < self.min_length:
            found.append(said("Password must be at least %(minimum)s characters.", minimum=self.min_length))
        if self.require_mixed and not (
            any(c.isupper() for c in password)
            and any(c.islower() for c in password)
            and any(c.isdigit() for c in password)
        ):
            found.append(said("Password must contain an upper-case letter, a lower-case letter and a digit."))
        lowered = password.lower()
        if self.block_common and lowered in common_passwords():
            found.append(said("Password is too common; choose another."))
        own = {v.lower() for v in (email, username, (email or "").split("@")[0]) if v}
        if lowered in own:
            found.append(said("Password must not be your email address or username."))
        return found
