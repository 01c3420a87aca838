"""How values are written for other systems: the same in API answers and in webhook bodies."""

from __future__ import annotations

from datetime import UTC, datetime


def iso_z(value: datetime) -> str:
    """`2025-10-13T12:00:00.000Z`: UTC with milliseconds, as the `/api/v1/auth` JWT API shows it."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").removesuffix("+00:00") + "Z"
