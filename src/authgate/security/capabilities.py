"""Roles and the capabilities they carry.

A capability is a string such as `users:read`; `*` stands for every capability. Two roles are
built in: `user` (none) and `admin` (`*`). Others are stored (`roles` table) and managed over
HTTP by holders of `roles:manage`.

Each process keeps a copy of the roles: `runtime/role_book.py`.

No one can hand out more than they hold: creating or changing a role, giving a user a role,
or acting on a user whose role carries capabilities the caller lacks, all need the caller to
hold every capability involved (`grants`).
"""

from __future__ import annotations

import re

import orjson

ALL = "*"
BUILTIN_ROLES: dict[str, tuple[str, ...]] = {"user": (), "admin": (ALL,)}
# The capabilities authgate itself checks; services may define their own (`billing:read`).
KNOWN_CAPS = ("users:read", "users:write", "roles:manage", "audit:read", "webhooks:manage", "clients:manage")
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
