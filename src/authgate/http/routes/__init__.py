"""Routers, one module per area. `PREFIXED` are served under every route prefix."""

from __future__ import annotations

from fastapi import APIRouter

from authgate.http.routes import accounts, health, links, mfa, otp, sessions, tokens

PREFIXED: list[APIRouter] = [
    accounts.router,
    tokens.router,
    sessions.router,
    mfa.router,
    links.router,
    otp.router,
]
ROOT: list[APIRouter] = [health.router]
