"""Annotated dependencies shared by the routes. All async: a sync dependency costs a thread hop."""

from __future__ import annotations

from ipaddress import ip_address, ip_network
from typing import Annotated, Any

from fastapi import Depends, Request

from authgate.errors import forbidden, invalid_token
from authgate.http.cookies import ACCESS_COOKIE
from authgate.http.csrf import check_cookie_request
from authgate.security.text import strip_control_characters
from authgate.services.context import RequestContext
from authgate.services.principals import Principal
from authgate.services.roles import caps_for, has_caps
from authgate.services.runtime import Runtime
from authgate.services.sessions import authenticate


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def _is_trusted(host: str, trusted: list[str]) -> bool:
    try:
        addr = ip_address(host)
    except ValueError:
        return False
    for entry in trusted:
        try:
            if addr in ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def client_ip(request: Request, trusted: list[str]) -> str | None:
    """The peer's address; `X-Forwarded-For` is believed only from a trusted proxy, and then
    read from the right, skipping trusted hops, so a client cannot choose its own address."""
    peer = request.client.host if request.client else None
    if peer is None or not trusted or not _is_trusted(peer, trusted):
        return peer
    forwarded = request.headers.get("x-forwarded-for", "")
    hops = [h.strip() for h in forwarded.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, trusted):
            return hop
    return hops[0] if hops else peer


async def get_context(request: Request, rt: RuntimeDep) -> RequestContext:
    """The User-Agent is stored with the session and shown in session lists: control
    characters are dropped (a NUL is a 500 on PostgreSQL; escapes could dress up a log line)."""
    agent = strip_control_characters(request.headers.get("user-agent") or "")
    return RequestContext(
        ip_address=client_ip(request, rt.settings.trusted_proxies),
        user_agent=agent or None,
    )


Context = Annotated[RequestContext, Depends(get_context)]


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    return None


async def get_principal(request: Request, rt: RuntimeDep) -> Principal:
    """The caller, by `Authorization: Bearer` or else by the `accessToken` cookie; a
    state-changing request authenticated by the cookie alone must pass the CSRF check."""
    token = bearer_token(request)
    if token is None:
        token = request.cookies.get(ACCESS_COOKIE)
        if not token:
            raise invalid_token("Authentication is required.")
        check_cookie_request(request, rt.settings)
    return await authenticate(rt, token)


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def require_caps(*needed: str) -> Any:
    """The caller, if their role carries every capability in `needed`; 403 otherwise."""

    async def check(principal: CurrentPrincipal) -> Principal:
        if not has_caps(caps_for(principal.user.role), *needed):
            raise forbidden(f"This needs the {', '.join(needed)} capability.")
        return principal

    return Depends(check)
