"""The audit trail as a hash chain: editing, removing or reordering an entry shows.

Each entry's hash is an HMAC-SHA256 over its content and the previous entry's hash, keyed by a
key derived (HKDF, its own label) from AUTHGATE_ENCRYPTION_KEY or else JWT_SECRET. A plain
hash could be recomputed by whoever can write to the database; the keyed one needs the
server's secret as well. Entries are appended at the end of their unit of work, under a lock
on the one `audit_chain` row, so concurrent transactions chain one after another and the lock
is held only for the few statements before the commit.

`verify` walks the trail in order and names the first entry that does not hold. Cutting
entries off the end leaves a head that matches no entry; cutting the whole trail and the head
together can only be seen against a head recorded elsewhere (`authgate audit verify` prints it).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import Any

import orjson
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from authgate.storage.models import AuditChainHead, AuditEntry
from authgate.storage.models.base import table_of

# The columns an entry's hash covers, in order (with VERSION and the previous hash).
HASHED = ("seq", "at", "type", "user_id", "actor_id", "ip_address", "user_agent", "data")
GENESIS = "0" * 64  # the "previous hash" of the first chained entry
HEAD_ID = 1
VERSION = 1


class AuditChain:
    """Computes entry hashes; holds only the derived key."""

    def __init__(self, key_material: str) -> None:
        self._key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"authgate audit chain v1").derive(
            key_material.encode("utf-8")
        )

    def hash(self, entry: AuditEntry | dict[str, Any], prev_hash: str) -> str:
        """Of a stored entry, or of a row about to be (a dict of the columns, `append`)."""
        row = entry if isinstance(entry, dict) else {name: getattr(entry, name) for name in HASHED}
        content = orjson.dumps(
            [
                VERSION,
                row["seq"],
                prev_hash,
                row["at"].astimezone(UTC).isoformat(timespec="microseconds"),
                *(row[name] for name in HASHED[2:]),
            ]
        )
        return hmac.new(self._key, content, hashlib.sha256).hexdigest()

    async def append(self, db: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
        """Give the new entries (dicts of their columns) the next places and hashes, insert
        them in one statement, and move the head; in the caller's transaction (SQLite: BEGIN
        IMMEDIATE already holds the one write lock)."""
        head = (
            await db.execute(select(AuditChainHead).where(AuditChainHead.id == HEAD_ID).with_for_update())
        ).scalar_one()
        seq, prev = head.seq, head.hash
        for row in rows:
            seq += 1
            row["seq"], row["prev_hash"] = seq, prev
            row["hash"] = prev = self.hash(row, prev)
        await db.execute(insert(table_of(AuditEntry)), list(rows))
        await db.execute(update(AuditChainHead).where(AuditChainHead.id == HEAD_ID).values(seq=seq, hash=prev))


@dataclass(frozen=True)
class Verdict:
    ok: bool
    entries: int  # entries read
    uncovered: int  # entries from before the chain began (no hash)
    head_seq: int
    head_hash: str
    problem: str | None = None  # what does not hold, naming the entry


async def verify(db: AsyncSession, chain: AuditChain, batch: int = 1000) -> Verdict:
    """Walk the whole trail in order of place, a batch at a time."""
    head = (await db.execute(select(AuditChainHead).where(AuditChainHead.id == HEAD_ID))).scalar_one()
    expected_seq, prev, count, uncovered, chained = 1, GENESIS, 0, 0, False

    def verdict(problem: str | None = None) -> Verdict:
        return Verdict(problem is None, count, uncovered, head.seq, head.hash, problem)

    after = 0
    while True:
        rows = (
            (await db.execute(select(AuditEntry).where(AuditEntry.seq > after).order_by(AuditEntry.seq).limit(batch)))
            .scalars()
            .all()
        )
        if not rows:
            break
        for entry in rows:
            count += 1
            where = f"entry {entry.seq} ({entry.id})"
            if entry.seq != expected_seq:
                return verdict(f"entry {expected_seq} is missing (the next one is {entry.seq})")
            expected_seq += 1
            if entry.hash is None:
                if chained:
                    return verdict(f"{where} has no hash, but entries before it do")
                uncovered += 1
                continue
            chained = True
            if entry.prev_hash != prev:
                return verdict(f"{where} does not follow the entry before it")
            if not hmac.compare_digest(entry.hash, chain.hash(entry, prev)):
                return verdict(f"{where} was changed after it was written")
            prev = entry.hash
        after = rows[-1].seq
    if head.seq != expected_seq - 1 or head.hash != prev:
        return verdict(
            f"the trail ends at entry {expected_seq - 1}, but its head says {head.seq}: entries were removed"
        )
    return verdict()
