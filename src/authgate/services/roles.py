"""Roles and the capabilities they carry. Two are built in; stored roles come later."""

from __future__ import annotations

BUILTIN_ROLES: dict[str, tuple[str, ...]] = {"user": (), "admin": ("*",)}


def caps_for(role: str) -> list[str]:
    return list(BUILTIN_ROLES.get(role, ()))


def has_caps(granted: list[str], *needed: str) -> bool:
    return "*" in granted or all(cap in granted for cap in needed)
