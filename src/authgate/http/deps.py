"""Annotated dependencies shared by the routes. All async: a sync dependency costs a thread hop."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from authgate.core.principal import Principal
from authgate.errors import forbidden, invalid_token
from authgate.http.cookies import ACCESS_COOKIE
from authgate.http.csrf import check_cookie_request
from authgate.http.openapi import problem_statuses
from authgate.http.request_scope import context_of
from authgate.runtime.root import Runtime
from authgate.scope import RequestContext, act_as
from authgate.scope import current as current_scope
from authgate.security.capabilities import has_caps
from authgate.signin.sessions import authenticate


def runtime_of(request: Request) -> Runtime:
    """The app's runtime. Hot routes read it with this rather than as a dependency: on the
    hottest requests each dependency FastAPI resolves is a measurable share of the work."""
    runtime: Runtime = request.app.state.runtime
    return runtime


async def get_runtime(request: Request) -> Runtime:
    return runtime_of(request)


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_context(request: Request, rt: RuntimeDep) -> RequestContext:
    """The request's address and User-Agent, as the edge (http/middleware.py) entered them."""
    scope = current_scope()
    return scope.context if scope is not None else context_of(request, rt.settings.trusted_proxies)


Context = Annotated[RequestContext, Depends(get_context)]


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    return None


@problem_statuses(401, 403)
async def get_principal(request: Request) -> Principal:
    """The caller, by `Authorization: Bearer` or else by the `accessToken` cookie; a
    state-changing request authenticated by the cookie alone must pass the CSRF check."""
    rt = runtime_of(request)
    token = bearer_token(request)
    if token is None:
        token = request.cookies.get(ACCESS_COOKIE)
        if not token:
            raise invalid_token("Authentication is required.")
        check_cookie_request(request, rt.settings)
    principal = await authenticate(rt, token)
    act_as(principal.user_id)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def require_caps(*needed: str) -> Any:
    """The caller, if their role carries every capability in `needed`; 403 otherwise."""

    @problem_statuses(403)
    async def check(principal: CurrentPrincipal, rt: RuntimeDep) -> Principal:
        if not has_caps(rt.roles.caps(principal.user.role), *needed):
            raise forbidden(f"This needs the {', '.join(needed)} capability.")
        return principal

    return Depends(check)
