"""The unit of work: one transaction for one use case.

`async with rt.uow() as tx:` opens it; every repository call of the use case gets `tx.db`.
What must happen only if the change is kept (dropping cached sessions, waking the courier)
is registered with `tx.on_commit(...)` and runs after the commit, never after a rollback.
`tx.audit(...)` and `tx.emit(...)` append the audit entry and the outbox event in the same
transaction as the change they describe: both exist exactly when the change does. Both
are written as the last statements before the commit, one INSERT per kind whatever their
number (an import writes hundreds at once); audit entries are chained then
(storage/audit_chain.py), so the lock that orders them is held as briefly as possible. The
request's address, User-Agent and authenticated caller are filled in from the request scope
(scope.py) unless given.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import orjson
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from authgate.events import EVENT_TYPES
from authgate.scope import current as current_scope
from authgate.storage.audit_chain import AuditChain
from authgate.storage.models import EventRecord, new_id, utcnow
from authgate.storage.models.base import table_of

AGENT_MAX = 512


class UnitOfWork:
    def __init__(self, db: AsyncSession, on_event: Callable[[], object] | None = None) -> None:
        self.db = db
        self._after: list[Callable[[], object]] = []
        self._audits: list[dict[str, Any]] = []  # rows of audit_log, written last (storage/audit_chain.py)
        self._events: list[dict[str, Any]] = []  # rows of events, written with them
        self._on_event = on_event

    def on_commit(self, effect: Callable[[], object]) -> None:
        self._after.append(effect)

    def audit(
        self,
        type: str,
        *,
        user_id: str | None,
        actor_id: str | None = None,
        ip_address: str | None = None,
        user_agent: str | None = None,
        **data: Any,
    ) -> None:
        """Append a security event to the audit trail; `data` never holds a secret. The actor
        is, unless given, the authenticated caller, or else the user the event is about."""
        scope = current_scope()
        if scope is not None:
            ip_address = ip_address or scope.context.ip_address
            user_agent = user_agent or scope.context.user_agent
            actor_id = actor_id or scope.actor_id
        self._audits.append(
            {
                "id": new_id(),
                "at": utcnow(),
                "type": type,
                "user_id": user_id,
                "actor_id": actor_id if actor_id is not None else user_id,
                "ip_address": ip_address,
                "user_agent": user_agent[:AGENT_MAX] if user_agent else None,
                "data": orjson.dumps(data).decode() if data else None,
            }
        )

    def emit(self, type: str, **data: Any) -> None:
        """Append an event for delivery to webhook subscribers (the outbox of `events`); once
        the change commits, the courier is woken to fan it out. `data` never holds a secret."""
        if type not in EVENT_TYPES:
            raise ValueError(f"{type!r} is not in the event catalogue (events.py)")
        self._events.append(
            {"id": new_id(), "at": utcnow(), "type": type, "data": orjson.dumps(data).decode(), "dispatched_at": None}
        )
        if self._on_event is not None and self._on_event not in self._after:
            self._after.append(self._on_event)

    def _committed(self) -> None:
        for effect in self._after:
            effect()


@asynccontextmanager
async def unit_of_work(
    sessions: async_sessionmaker[AsyncSession], chain: AuditChain, on_event: Callable[[], object] | None = None
) -> AsyncIterator[UnitOfWork]:
    async with sessions() as db, db.begin():
        tx = UnitOfWork(db, on_event)
        yield tx
        if tx._events:
            await db.execute(insert(table_of(EventRecord)), tx._events)
        if tx._audits:
            await chain.append(db, tx._audits)
    tx._committed()
