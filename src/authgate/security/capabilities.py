"""Roles and the capabilities they carry.

A capability is a string such as `users:read`; `*` stands for every capability. Two roles are
built in: `user` (none) and `admin` (`*`). Others are stored (`roles` table) and managed over
HTTP by holders of `roles:manage`.

`RoleBook` is each process's copy of the roles, read by the hot paths (minting a token,
checking a capability) without a query. It is reloaded from the database every `ttl` seconds
(a change made on another node shows within that time) and updated at once when a change
commits on this node. So a role change reaches authgate's own checks within a second, and the
`caps` claim of a user's access token at their next refresh at the latest.

No one can hand out more than they hold: creating or changing a role, giving a user a role,
or acting on a user whose role carries capabilities the caller lacks, all need the caller to
hold every capability involved (`grants`).
"""

from __future__ import annotations

import asyncio
import contextlib
import re

import orjson
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from authgate.runtime.periodic import Periodic
from authgate.storage.models import Role
from authgate.storage.repositories import roles as role_repo

ALL = "*"
BUILTIN_ROLES: dict[str, tuple[str, ...]] = {"user": (), "admin": (ALL,)}
# The capabilities authgate itself checks; services may define their own (`billing:read`).
KNOWN_CAPS = ("users:read", "users:write", "roles:manage", "audit:read", "webhooks:manage")
ROLE_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
CAPABILITY = re.compile(r"^[a-z][a-z0-9_-]*(:[a-z0-9_-]+)+$")
CAP_MAX_CHARS = 64
CAPS_MAX = 100


def has_caps(granted: list[str] | tuple[str, ...], *needed: str) -> bool:
    return ALL in granted or all(cap in granted for cap in needed)


def grants(granted: list[str] | tuple[str, ...], offered: list[str] | tuple[str, ...]) -> bool:
    """Does holding `granted` allow handing out `offered`? (Only what one holds oneself.)"""
    return has_caps(granted, *offered)


def caps_problem(cap: str) -> str | None:
    """Why `cap` is not a capability, if it is not."""
    if cap == ALL:
        return None
    if len(cap) > CAP_MAX_CHARS or not CAPABILITY.match(cap):
        return f"{cap!r} is not a capability: lower-case words joined by ':' (e.g. users:read), or '*'."
    return None


def decode_caps(stored: str) -> tuple[str, ...]:
    return tuple(orjson.loads(stored))


def encode_caps(caps: list[str] | tuple[str, ...]) -> str:
    return orjson.dumps(sorted(set(caps))).decode()


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
