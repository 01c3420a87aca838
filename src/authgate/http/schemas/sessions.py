"""Bodies of refresh, logout and the session list."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from pydantic import BaseModel, Field

from authgate.http.schemas.accounts import In, LoginOptions
from authgate.wire import iso_z


class Session(Protocol):
    """What a session entry is made from (a session as the services return it)."""

    id: str
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    ip_address: str | None
    user_agent: str | None


class TokenIn(In):
    """`POST /token`: a native app's code and the verifier its challenge was made from."""

    code: str = Field(max_length=128)
    code_verifier: str = Field(alias="codeVerifier", max_length=128)
    options: LoginOptions = Field(default_factory=LoginOptions)


class RefreshIn(In):
    """Optional: browsers send the `refreshToken` cookie instead."""

    refresh_token: str | None = Field(default=None, alias="refreshToken", max_length=512)
    options: LoginOptions = Field(default_factory=LoginOptions)


class MessageOut(BaseModel):
    message: str


class AdminSessionOut(BaseModel):
    """A session as an administrator sees it (`GET /user/{id}/sessions`)."""

    id: str
    created_at: str = Field(serialization_alias="createdAt")
    last_used_at: str = Field(serialization_alias="lastUsedAt")
    expires_at: str = Field(serialization_alias="expiresAt")
    ip_address: str | None = Field(serialization_alias="ipAddress")
    user_agent: str | None = Field(serialization_alias="userAgent")

    @classmethod
    def of_admin(cls, session: Session) -> AdminSessionOut:
        return cls(
            id=session.id,
            created_at=iso_z(session.created_at),
            last_used_at=iso_z(session.last_used_at),
            expires_at=iso_z(session.expires_at),
            ip_address=session.ip_address,
            user_agent=session.user_agent,
        )


class SessionOut(AdminSessionOut):
    """A session in its user's own list: also whether it is the caller's."""

    current: bool

    @classmethod
    def of(cls, session: Session, *, current_id: str) -> SessionOut:
        return cls(**AdminSessionOut.of_admin(session).model_dump(), current=session.id == current_id)


class RevokedOut(BaseModel):
    message: str
    revoked: int
