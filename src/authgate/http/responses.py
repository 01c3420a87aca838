"""Turning a service's LoginResult into the login response."""

from __future__ import annotations

from fastapi import Response
from pydantic import BaseModel

from authgate.http.schemas.accounts import LoginOut
from authgate.http.schemas.users import User, UserOut
from authgate.runtime.root import Runtime
from authgate.signin.sessions import LoginResult


def user_out(rt: Runtime, user: User) -> UserOut:
    return UserOut.of(user, rt.roles.caps(user.role))


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
