"""The user object: every field in camelCase, and `created_at` in snake case too, as the `/api/v1/auth` JWT
API has it (the same instant as `createdAt`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from authgate.wire import iso_z


class User(Protocol):
    """What a user object is made from (an account as the services return it)."""

    id: str
    email: str
    name: str | None
    username: str | None
    phone: str | None
    role: str
    email_verified: bool
    phone_verified: bool
    mfa_enabled: bool
    created_at: datetime
    updated_at: datetime


class AdminUser(User, Protocol):
    disabled: bool
    password_scheme: str | None


class UserOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: str
    email: str
    name: str | None
    username: str | None
    phone: str | None
    role: str
    caps: list[str]
    email_verified: bool = Field(serialization_alias="emailVerified")
    phone_verified: bool = Field(serialization_alias="phoneVerified")
    mfa_enabled: bool = Field(serialization_alias="mfaEnabled")
    created_at: str
    created_at_camel: str = Field(serialization_alias="createdAt")
    updated_at: str = Field(serialization_alias="updatedAt")

    @classmethod
    def of(cls, user: User, caps: list[str]) -> UserOut:
        """`caps`: what the user's role carries now (`rt.roles.caps(user.role)`)."""
        created = iso_z(user.created_at)
        return cls(
            id=user.id,
            email=user.email,
            name=user.name,
            username=user.username,
            phone=user.phone,
            role=user.role,
            caps=caps,
            email_verified=user.email_verified,
            phone_verified=user.phone_verified,
            mfa_enabled=user.mfa_enabled,
            created_at=created,
            created_at_camel=created,
            updated_at=iso_z(user.updated_at),
        )


class UnlockedOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    message: str
    was_locked: bool = Field(serialization_alias="wasLocked")


class AdminUserOut(UserOut):
    """The user object as administrators see it: also whether the account is disabled, the
    scheme of its password hash (None: no password), to follow a migration of hashes, and when
    its lockout ends (None: not locked)."""

    disabled: bool
    password_scheme: str | None = Field(serialization_alias="passwordScheme")
    locked_until: str | None = Field(serialization_alias="lockedUntil")

    @classmethod
    def of_admin(cls, user: AdminUser, caps: list[str], locked_until: datetime | None) -> AdminUserOut:
        return cls(
            **UserOut.of(user, caps).model_dump(),
            disabled=user.disabled,
            password_scheme=user.password_scheme,
            locked_until=iso_z(locked_until) if locked_until is not None else None,
        )


class UserPageOut(BaseModel):
    items: list[AdminUserOut]
    next_cursor: str | None = Field(serialization_alias="nextCursor")


class MfaResetOut(BaseModel):
    message: str
    removed: list[str]


class ImportIn(BaseModel):
    """`POST /users/import` (`users:write`): rows as docs/guides/importing.md describes them.
    A row that is not an object fails on its own; the request fails only as a whole."""

    model_config = ConfigDict(populate_by_name=True)

    users: list[Any] = Field(min_length=1, max_length=1000)
    dry_run: bool = Field(default=False, alias="dryRun", strict=True)


class FieldErrorOut(BaseModel):
    field: str
    message: str


class ImportResultOut(BaseModel):
    index: int
    email: Any
    status: str
    id: str | None = None
    code: str | None = None
    detail: str | None = None
    errors: list[FieldErrorOut] | None = None


class ImportOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    dry_run: bool = Field(serialization_alias="dryRun")
    valid: int
    created: int
    failed: int
    unverified: int
    results: list[ImportResultOut]
