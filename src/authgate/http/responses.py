"""Turning a service's LoginResult into the login response."""

from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

from fastapi import Response
from pydantic import BaseModel

from authgate.http.schemas.accounts import LoginOut
from authgate.http.schemas.users import User, UserOut
from authgate.runtime.root import Runtime
from authgate.signin.sessions import LoginResult


def user_out(rt: Runtime, user: User) -> UserOut:
    return UserOut.of(user, rt.roles.caps(user.role))


_bodies: WeakKeyDictionary[User, tuple[tuple[Any, ...], bytes]] = WeakKeyDictionary()


def user_body(rt: Runtime, user: User) -> bytes:
    """The user object as JSON bytes, made once per account object: the session cache hands
    out the same object for a second at a time, so a client reading its profile in a loop is
    served the bytes made for its first read. Anything the bytes are made from that changes
    (the object updated in place, the role's capabilities) makes them again."""
    caps = rt.roles.caps(user.role)
    made_from = (
        user.id, user.email, user.name, user.username, user.phone, user.role, user.email_verified,
        user.phone_verified, user.mfa_enabled, user.created_at, user.updated_at, tuple(caps),
    )  # fmt: skip
    known = _bodies.get(user)
    if known is not None and known[0] == made_from:
        return known[1]
    body = UserOut.of(user, caps).model_dump_json(by_alias=True).encode()
    _bodies[user] = (made_from, body)
    return body


def login_out(rt: Runtime, result: LoginResult, message: str) -> LoginOut:
    return LoginOut(
        message=message,
        token=result.access_token,
        access_token=result.access_token,
        refresh_token=result.refresh_token,
        expires_in=result.expires_in,
        user=user_out(rt, result.user),
        name=result.user.name,
        email=result.user.email,
    )


def json_response(model: BaseModel, status_code: int = 200) -> Response:
    """A model serialised once, straight to bytes. Routes declare `response_model` for the
    OpenAPI document, but returning a Response skips FastAPI's re-validation of the value,
    which costs more than the rest of a small authenticated read (bench/RESULTS.md)."""
    return Response(model.model_dump_json(by_alias=True), status_code=status_code, media_type="application/json")
