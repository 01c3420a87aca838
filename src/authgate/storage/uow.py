"""The unit of work: one transaction for one use case.

`async with rt.uow() as tx:` opens it; every repository call of the use case gets `tx.db`.
What must happen only if the change is kept (dropping cached sessions, waking the courier)
is registered with `tx.on_commit(...)` and runs after the commit, never after a rollback.
`tx.audit(...)` and `tx.emit(...)` append the audit entry and the outbox event in the same
transaction as the change they describe: both exist exactly when the change does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from authgate.storage.models import AuditEntry, EventRecord, utcnow


class UnitOfWork:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db
        self._after: list[Callable[[], object]] = []

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
        """Append a security event to the audit trail; `data` never holds a secret."""
        self.db.add(
            AuditEntry(
                at=utcnow(),
                type=type,
                user_id=user_id,
                actor_id=actor_id if actor_id is not None else user_id,
                ip_address=ip_address,
                user_agent=user_agent,
                data=orjson.dumps(data).decode() if data else None,
            )
        )

    def emit(self, type: str, **data: Any) -> None:
        """Append an event for delivery to subscribers (the outbox of `events`)."""
        self.db.add(EventRecord(at=utcnow(), type=type, data=orjson.dumps(data).decode()))

    def _committed(self) -> None:
        for effect in self._after:
            effect()


@asynccontextmanager
async def unit_of_work(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[UnitOfWork]:
    async with sessions() as db, db.begin():
        tx = UnitOfWork(db)
        yield tx
    tx._committed()
