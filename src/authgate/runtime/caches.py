"""Who is calling: an access token checked against its live session, cheaply.

Checking the session on every request keeps revocation immediate, but a database read per
request would halve throughput. So a bounded in-process cache maps a session id to its user
for at most `ttl` seconds (1 s: revocation on another node or worker shows within a second),
and every revocation on this node drops its entries at once. Concurrent misses for one
session share a single load, so an expiring entry under load costs one query, not hundreds.

A load that started before a drop must not outlive it: `epoch` counts drops, a load's answer
is not cached when the epoch moved while it read the database, and a drop detaches pending
loads so that requests arriving after a revocation read the database afresh.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from authgate.storage.models import Session, User


class PrincipalCache:
    def __init__(self, ttl: float = 1.0, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, Session, User]] = OrderedDict()
        self._loading: dict[str, asyncio.Future[tuple[Session, User] | None]] = {}
        self.epoch = 0  # counts drops; see the module docstring

    async def fetch(
        self, session_id: str, load: Callable[[], Awaitable[tuple[Session, User] | None]]
    ) -> tuple[Session, User] | None:
        """The cached entry, or one shared `load()` for every concurrent caller."""
        found = self.get(session_id)
        if found is not None:
            return found
        pending = self._loading.get(session_id)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[tuple[Session, User] | None] = asyncio.get_running_loop().create_future()
        self._loading[session_id] = future
        epoch = self.epoch
        try:
            found = await load()
            if found is not None:
                self.put(*found, epoch=epoch)
            future.set_result(found)
            return found
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters (if any) re-raise it themselves
            raise
        finally:
            if self._loading.get(session_id) is future:
                del self._loading[session_id]

    def get(self, session_id: str) -> tuple[Session, User] | None:
        entry = self._entries.get(session_id)
        if entry is None:
            return None
        stamp, session, user = entry
        if time.monotonic() - stamp > self.ttl:
            self._entries.pop(session_id, None)
            return None
        return session, user

    def put(self, session: Session, user: User, epoch: int | None = None) -> None:
        """Cache a live session; `epoch` is `self.epoch` as read before the database read."""
        if epoch is not None and epoch != self.epoch:
            return
        self._entries[session.id] = (time.monotonic(), session, user)
        self._entries.move_to_end(session.id)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def drop_sessions(self, session_ids: list[str]) -> None:
        self.epoch += 1
        for sid in session_ids:
            self._entries.pop(sid, None)
            self._loading.pop(sid, None)

    def drop_user(self, user_id: str) -> None:
        self.epoch += 1
        self._loading.clear()  # which pending loads are this user's is not known yet
        for sid in [sid for sid, (_, _, user) in self._entries.items() if user.id == user_id]:
            self._entries.pop(sid, None)


class VerifiedTokens:
    """Claims of access tokens already verified, keyed by the exact token string, until they
    expire. Clients send the same token for its whole life, and a signature check costs more
    than the rest of an authenticated request; only an identical string (signature included)
    hits, and `exp` is checked again on every hit. Each entry remembers its key's `kid`: a hit
    counts only while that key still verifies (`accepts`), and when keys leave the set their
    entries are dropped (`drop_kids`)."""

    def __init__(self, accepts: Callable[[str | None], bool], max_entries: int = 10_000) -> None:
        self.accepts = accepts
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[str | None, dict[str, Any]]] = OrderedDict()

    def get(self, token: str) -> dict[str, Any] | None:
        entry = self._entries.get(token)
        if entry is None:
            return None
        kid, claims = entry
        if claims["exp"] <= time.time() or not self.accepts(kid):
            self._entries.pop(token, None)
            return None
        return claims

    def put(self, token: str, kid: str | None, claims: dict[str, Any]) -> None:
        self._entries[token] = (kid, claims)
        if len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def drop_kids(self, kids: set[str]) -> None:
        for token in [token for token, (kid, _) in self._entries.items() if kid in kids]:
            del self._entries[token]
