"""The purge: what the server deletes by itself once it is of no use (docs/retention.md).

Several tables grow with every request, some under unauthenticated traffic (a reset asked
for an unknown address still writes a decoy secret and a suppressed outbox row). Every
`retention_interval_seconds` one pass goes over each kind of row, batch after batch of at
most `retention_batch_size`, each batch its own short transaction (on SQLite a long one
would hold the write lock), and moves to the next kind when a batch comes back short. The
audit log is never purged: it is a hash chain.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from authgate.observability.logging import get_logger
from authgate.runtime.periodic import Periodic
from authgate.storage.models import utcnow
from authgate.storage.repositories import retention as retention_repo

if TYPE_CHECKING:
    from authgate.settings import Settings

log = get_logger("authgate.retention")


class RetentionParts(Protocol):
    @property
    def settings(self) -> Settings: ...
    @property
    def db(self) -> async_sessionmaker[AsyncSession]: ...


Batch = Callable[[AsyncSession, int], Awaitable[int]]  # deletes at most n rows, returns how many


def _kinds(rt: RetentionParts) -> list[tuple[str, Batch]]:
    """Each kind of row with the batch that deletes it, in the order they run (a session's
    retired refresh tokens before the session)."""
    settings = rt.settings
    now = utcnow()

    def ago(seconds: int) -> timedelta:
        return timedelta(seconds=seconds)

    secrets_before = now - ago(settings.retention_expired_seconds)
    outbox_before = now - ago(settings.retention_outbox_seconds)
    events_before = now - ago(settings.retention_events_seconds)
    sessions_before = now - ago(settings.retention_sessions_seconds)
    return [
        ("one_time_secrets", lambda db, n: retention_repo.expired_secrets(db, before=secrets_before, limit=n)),
        ("outbox", lambda db, n: retention_repo.finished_outbox(db, before=outbox_before, limit=n)),
        ("events", lambda db, n: retention_repo.dispatched_events(db, before=events_before, limit=n)),
        (
            "retired_refresh_tokens",
            lambda db, n: retention_repo.retired_tokens_of_ended_sessions(db, before=sessions_before, limit=n),
        ),
        ("sessions", lambda db, n: retention_repo.ended_sessions(db, before=sessions_before, limit=n)),
        (
            "oauth_retired_tokens",
            lambda db, n: retention_repo.retired_tokens_of_ended_grants(db, before=sessions_before, limit=n),
        ),
        ("oauth_grants", lambda db, n: retention_repo.ended_grants(db, before=sessions_before, limit=n)),
        ("signing_keys", lambda db, n: retention_repo.expired_signing_keys(db, now=now, limit=n)),
    ]


async def purge(rt: RetentionParts) -> dict[str, int]:
    """One pass over every kind; returns the rows deleted per table. Logs one line when
    anything was deleted."""
    limit = rt.settings.retention_batch_size
    counts: dict[str, int] = {}
    for table, batch in _kinds(rt):
        counts[table] = 0
        while True:
            async with rt.db.begin() as db:
                deleted = await batch(db, limit)
            counts[table] += deleted
            if deleted < limit:
                break
    if any(counts.values()):
        # One field holding the counts: table names such as `signing_keys` would look like
        # secrets to the log's redaction at the top level.
        log.info("retention_purged", deleted=counts)
    return counts


def start(rt: RetentionParts) -> asyncio.Task[None] | None:
    """Purge every `retention_interval_seconds` for the life of the process (none when 0);
    a failure is logged once per outage and the next turn tries again."""
    every = rt.settings.retention_interval_seconds
    if every == 0:
        return None

    async def turn() -> None:
        await purge(rt)

    job = Periodic(every, turn, failure_event="retention_failed")
    return asyncio.get_running_loop().create_task(job.run_forever(), name="authgate-retention")
