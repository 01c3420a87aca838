"""A background job run every few seconds for the life of the process (reloading the roles,
the signing keys). A failure keeps whatever the job built last and is logged once per outage,
not on every turn, so a database that is down for a minute leaves one line, not twenty."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from authgate.observability.logging import get_logger

log = get_logger("authgate.periodic")


class Periodic:
    def __init__(self, every: float, job: Callable[[], Awaitable[None]], *, failure_event: str) -> None:
        self.every = every
        self._job = job
        self._failure_event = failure_event
        self._failing = False

    async def run_once(self) -> None:
        """The job now; a failure is logged (once per outage) and swallowed."""
        try:
            await self._job()
            self._failing = False
        except Exception as exc:
            if not self._failing:
                self._failing = True
                log.warning(self._failure_event, error=type(exc).__name__)

    async def run_forever(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            await self.run_once()
