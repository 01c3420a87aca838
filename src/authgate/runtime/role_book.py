"""Each process's copy of the roles, read by the hot paths (minting a token, checking a
capability) without a query. It is reloaded from the database every `ttl` seconds (a change
made on another node shows within that time) and updated at once when a change commits on
this node. So a role change reaches authgate's own checks within a second, and the `caps`
claim of a user's access token at their next refresh at the latest."""

from __future__ import annotations

import asyncio
import contextlib

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from authgate.runtime.periodic import Periodic
from authgate.security.capabilities import BUILTIN_ROLES, decode_caps
from authgate.storage.models import Role
from authgate.storage.repositories import roles as role_repo


class RoleBook:
    """The roles as of at most `ttl` seconds ago; see the module docstring."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], ttl: float = 1.0) -> None:
        self._sessions = sessions
        self.ttl = ttl
        self._caps: dict[str, tuple[str, ...]] = dict(BUILTIN_ROLES)
        self._task: asyncio.Task[None] | None = None
        self._epoch = 0  # counts local changes: a load that read before one is not kept
        self._reloads = Periodic(ttl, self.load, failure_event="roles_reload_failed")

    def caps(self, role: str) -> list[str]:
        """The role's capabilities; none for a role this node does not know (fail closed)."""
        return list(self._caps.get(role, ()))

    def known(self, role: str) -> bool:
        return role in self._caps

    async def load(self) -> None:
        epoch = self._epoch
        async with self._sessions() as db:
            roles = await role_repo.all_roles(db)
        if epoch == self._epoch:
            self._caps = {role.name: decode_caps(role.caps) for role in roles}

    def put(self, role: Role) -> None:
        self._epoch += 1
        self._caps = {**self._caps, role.name: decode_caps(role.caps)}

    def drop(self, name: str) -> None:
        self._epoch += 1
        self._caps = {k: v for k, v in self._caps.items() if k != name}

    async def start(self) -> None:
        """Read the roles, then keep reading them. A database that does not answer yet does
        not stop the server (readiness says so); until it does, only the built-in roles count."""
        await self._reloads.run_once()
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._reloads.run_forever())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
