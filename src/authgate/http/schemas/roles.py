"""Bodies of the role endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from pydantic import BaseModel, Field

from authgate.http.schemas.accounts import In
from authgate.security.capabilities import BUILTIN_ROLES, decode_caps
from authgate.wire import iso_z


class Role(Protocol):
    name: str
    caps: str
    description: str | None
    created_at: datetime
    updated_at: datetime


class RoleIn(In):
    name: str = Field(max_length=200)
    caps: list[str] = Field(default_factory=list, max_length=1000)
    description: str | None = Field(default=None, max_length=1000)


class RoleChangeIn(In):
    caps: list[str] | None = Field(default=None, max_length=1000)
    description: str | None = Field(default=None, max_length=1000)


class RoleOut(BaseModel):
    name: str
    caps: list[str]
    description: str | None
    builtin: bool
    created_at: str = Field(serialization_alias="createdAt")
    updated_at: str = Field(serialization_alias="updatedAt")

    @classmethod
    def of(cls, role: Role) -> RoleOut:
        return cls(
            name=role.name,
            caps=list(decode_caps(role.caps)),
            description=role.description,
            builtin=role.name in BUILTIN_ROLES,
            created_at=iso_z(role.created_at),
            updated_at=iso_z(role.updated_at),
        )


class RolesOut(BaseModel):
    items: list[RoleOut]
