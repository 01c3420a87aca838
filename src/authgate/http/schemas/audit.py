"""The audit trail's answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

import orjson
from pydantic import BaseModel, Field

from authgate.wire import iso_z


class AuditEntry(Protocol):
    """What an audit entry is made from (an entry as the services return it)."""

    id: str
    seq: int
    type: str
    at: datetime
    user_id: str | None
    actor_id: str | None
    ip_address: str | None
    user_agent: str | None
    data: str | None
    hash: str | None


class AuditEntryOut(BaseModel):
    id: str
    seq: int
    type: str
    created_at: str = Field(serialization_alias="createdAt")
    user_id: str | None = Field(serialization_alias="userId")
    actor_id: str | None = Field(serialization_alias="actorId")
    ip_address: str | None = Field(serialization_alias="ipAddress")
    user_agent: str | None = Field(serialization_alias="userAgent")
    data: dict[str, Any] | None
    hash: str | None

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditEntryOut:
        return cls(
            id=entry.id,
            seq=entry.seq,
            type=entry.type,
            created_at=iso_z(entry.at),
            user_id=entry.user_id,
            actor_id=entry.actor_id,
            ip_address=entry.ip_address,
            user_agent=entry.user_agent,
            data=orjson.loads(entry.data) if entry.data else None,
            hash=entry.hash,
        )


class AuditPageOut(BaseModel):
    items: list[AuditEntryOut]
    next_cursor: str | None = Field(serialization_alias="nextCursor")
