"""Bodies of social login: starting a link, and the linked identities of `GET /user`."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from pydantic import BaseModel, Field

from authgate.http.schemas.accounts import CurrentPassword, TypedCode
from authgate.http.schemas.users import UserOut
from authgate.security.redirects import MAX_LENGTH as MAX_REDIRECT_CHARS
from authgate.wire import iso_z


class LinkIn(TypedCode):
    provider: str = Field(max_length=32)
    redirect_to: str | None = Field(default=None, alias="redirectTo", max_length=MAX_REDIRECT_CHARS)
    current_password: str | None = CurrentPassword


class AuthorizationOut(BaseModel):
    authorization_url: str = Field(serialization_alias="authorizationUrl")


class LinkedOut(BaseModel):
    message: str
    provider: str


class Identity(Protocol):
    provider: str
    email: str | None
    created_at: datetime
    last_used_at: datetime | None


class IdentityOut(BaseModel):
    provider: str
    email: str | None
    linked_at: str = Field(serialization_alias="linkedAt")
    last_used_at: str | None = Field(serialization_alias="lastUsedAt")

    @classmethod
    def of(cls, identity: Identity) -> IdentityOut:
        return cls(
            provider=identity.provider,
            email=identity.email,
            linked_at=iso_z(identity.created_at),
            last_used_at=iso_z(identity.last_used_at) if identity.last_used_at else None,
        )


class CurrentUserOut(UserOut):
    """`GET /user`: the user object, with the ways the account can sign in."""

    has_password: bool = Field(serialization_alias="hasPassword")
    identities: list[IdentityOut]
