"""Bodies of token introspection (RFC 7662), with the RFC's own parameter names."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class IntrospectIn(BaseModel):
    """A form post (as RFC 7662 has it) or a JSON object with the same names. No check for
    control characters: a token holding them is simply not active, and a client id holding
    them names no client."""

    model_config = ConfigDict(strict=True)

    token: str | None = None  # required; checked after the caller is authenticated
    token_type_hint: str | None = Field(default=None, max_length=64)
    client_id: str | None = None  # or HTTP Basic
    client_secret: str | None = None


class IntrospectionOut(BaseModel):
    """`{"active": false}` and nothing else for any token that is not active."""

    active: bool
    token_type: str | None = Field(default=None, description="access_token or refresh_token")
    sub: str | None = None
    sid: str | None = None
    exp: int | None = None
    iat: int | None = None
    iss: str | None = None
    aud: str | list[str] | None = None
    jti: str | None = None
    email: str | None = None
    role: str | None = None
    caps: list[str] | None = None
    amr: list[str] | None = None
    username: str | None = None
