"""Routers, one module per area. `PREFIXED` are served under every route prefix; `FORM_PATHS`
gathers the path patterns whose modules take a form post, `LARGER_BODIES` those that take more
than `AUTHGATE_MAX_BODY_BYTES`, as a multiple of it (http/middleware.Edge)."""

from __future__ import annotations

from fastapi import APIRouter

from authgate.http.routes import (
    accounts,
    audit,
    captcha,
    health,
    introspection,
    keys,
    links,
    mfa,
    oauth,
    oauth2_clients,
    oauth2_consents,
    otp,
    passkeys,
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
    introspection.router,
    keys.router,
    passkeys.router,  # after the others: the hot routes above are matched without trying these
    oauth2_clients.router,  # an administrator's: after every route a sign-in or a refresh takes
    users.rare,  # an administrator's occasional actions, and renewing recovery codes: the very last
    mfa.rare,
    oauth2_consents.router,
]
ROOT: list[APIRouter] = [health.router]
FORM_PATHS: tuple[str, ...] = (*links.FORM_PATHS, *introspection.FORM_PATHS)
LARGER_BODIES: tuple[tuple[str, int], ...] = users.LARGER_BODIES
