"""Bounded in-process caches of verified claims and of introspection answers.

Both are keyed by a SHA-256 digest of the token, so neither holds a usable token.
"""

from __future__ import annotations

import base64
import hashlib
import time
from collections import OrderedDict

from authgate.client._claims import Claims


def token_digest(token: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(token.encode("utf-8")).digest()).decode("ascii")


class ClaimsCache:
    """Claims of tokens already verified, by (kid, digest), so a token seen again skips the
    signature check (ES256 and RS256 cost more than the rest of a request). Filed under the
    key's kid so that a key leaving the set takes its entries with it. The caller re-checks
    `exp` on every hit."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[str, str], Claims] = OrderedDict()

    def get(self, kid: str, digest: str) -> Claims | None:
        claims = self._entries.get((kid, digest))
        if claims is not None:
            self._entries.move_to_end((kid, digest))
        return claims

    def put(self, kid: str, digest: str, claims: Claims) -> None:
        if self.max_entries <= 0:
            return
        self._entries[(kid, digest)] = claims
        self._entries.move_to_end((kid, digest))
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def forget(self, kid: str, digest: str) -> None:
        self._entries.pop((kid, digest), None)

    def drop_kids(self, kids: set[str]) -> None:
        """Keys left the set: their tokens must not pass from here either."""
        for entry in [entry for entry in self._entries if entry[0] in kids]:
            del self._entries[entry]

    def kids(self) -> set[str]:
        return {kid for kid, _ in self._entries}


class AnswerCache:
    """Introspection answers (active or not) by token digest, each for `ttl` seconds."""

    def __init__(self, ttl: float, max_entries: int) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, bool]] = OrderedDict()

    def get(self, digest: str) -> bool | None:
        entry = self._entries.get(digest)
        if entry is None:
            return None
        if time.monotonic() >= entry[0]:
            del self._entries[digest]
            return None
        return entry[1]

    def put(self, digest: str, active: bool) -> None:
        if self.ttl <= 0 or self.max_entries <= 0:
            return
        self._entries[digest] = (time.monotonic() + self.ttl, active)
        self._entries.move_to_end(digest)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
