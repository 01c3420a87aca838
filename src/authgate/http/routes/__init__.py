"""Routers, one module per area. `PREFIXED` are served under every route prefix."""

from __future__ import annotations

from fastapi import APIRouter

from authgate.http.routes import (
    accounts,
    audit,
    captcha,
    health,
    keys,
    links,
    mfa,
    oauth,
    otp,
    roles,
    sessions,
    tokens,
    users,
    webhooks,
)

PREFIXED: list[APIRouter] = [
    accounts.router,
    tokens.router,
    sessions.router,
    mfa.router,
    links.router,
    otp.router,
    oauth.router,
    users.router,
    roles.router,
    audit.router,
    webhooks.router,
    captcha.router,
    keys.router,
]
ROOT: list[APIRouter] = [health.router]
