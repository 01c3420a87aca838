"""Turning a service's LoginResult into the login response of SPEC §2."""

from __future__ import annotations

from authgate.http.schemas.accounts import LoginOut
from authgate.http.schemas.users import UserOut
from authgate.services.sessions import LoginResult


def login_out(result: LoginResult, message: str) -> LoginOut:
    return LoginOut(
        message=message,
        token=result.access_token,
        access_token=result.access_token,
        refresh_token=result.refresh_token,
        expires_in=result.expires_in,
        user=UserOut.of(result.user),
        name=result.user.name,
        email=result.user.email,
    )
