"""FastAPI dependencies: `Depends(require_authenticated(verifier))` and friends give a route
the verified `Claims`, or refuse the request.

They raise `AuthgateError` (a Starlette `HTTPException`): with no setup, FastAPI answers it
with the right status and `WWW-Authenticate` and a `{"detail": ...}` body;
`app.add_exception_handler(AuthgateError, problem_response)` makes that body authgate's
problem document. Each dependency also declares the bearer scheme, so OpenAPI (`/docs`)
shows the routes as secured and offers to send a token.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from authgate.client._claims import Claims
from authgate.client._errors import forbidden
from authgate.client._verifier import TokenVerifier

ClaimsDependency = Callable[..., Awaitable[Claims]]

# Declares the scheme for OpenAPI only: the verifier reads the header (or cookie) itself.
_BEARER = HTTPBearer(auto_error=False, scheme_name="authgate", description="An access token issued by authgate.")


def require_authenticated(verifier: TokenVerifier) -> ClaimsDependency:
    """The request's verified claims; 401 without a valid token."""

    async def authenticated(
        request: Request, _credentials: HTTPAuthorizationCredentials | None = Security(_BEARER)
    ) -> Claims:
        return await verifier.authenticate(request)

    return authenticated


def require_role(verifier: TokenVerifier, *roles: str) -> ClaimsDependency:
    """As `require_authenticated`, and the token's role is one of `roles` (else 403 `forbidden`)."""
    if not roles:
        raise ValueError("name at least one role")

    async def with_role(
        request: Request, _credentials: HTTPAuthorizationCredentials | None = Security(_BEARER)
    ) -> Claims:
        claims = await verifier.authenticate(request)
        if not claims.has_role(*roles):
            raise forbidden(verifier.realm, f"This needs the role {' or '.join(roles)}.")
        return claims

    return with_role


def require_caps(verifier: TokenVerifier, *caps: str) -> ClaimsDependency:
    """As `require_authenticated`, and the token carries every capability in `caps` (`*`
    carries them all); else 403 `forbidden`."""
    if not caps:
        raise ValueError("name at least one capability")
    scope = " ".join(caps) if all(_scope_token(cap) for cap in caps) else None

    async def with_caps(
        request: Request, _credentials: HTTPAuthorizationCredentials | None = Security(_BEARER)
    ) -> Claims:
        claims = await verifier.authenticate(request)
        if not claims.has_caps(*caps):
            raise forbidden(verifier.realm, f"This needs the {', '.join(caps)} capability.", scope)
        return claims

    return with_caps


def require_scopes(verifier: TokenVerifier, *scopes: str) -> ClaimsDependency:
    """As `require_authenticated`, and the token is one authgate gave an app that was granted
    every scope in `scopes`; else 403 `forbidden`. authgate's own tokens carry no scopes, so
    they never pass. Needs a verifier made with `accept_client_tokens=True`."""
    if not scopes:
        raise ValueError("name at least one scope")
    for scope in scopes:
        if not _scope_token(scope):
            raise ValueError(f"{scope!r} is not a scope: printable ASCII without spaces, quotes or backslashes")
    if not verifier.accept_client_tokens:
        raise ValueError("require_scopes needs a verifier made with accept_client_tokens=True")
    named = " ".join(scopes)

    async def with_scopes(
        request: Request, _credentials: HTTPAuthorizationCredentials | None = Security(_BEARER)
    ) -> Claims:
        claims = await verifier.authenticate(request)
        if not claims.has_scopes(*scopes):
            raise forbidden(verifier.realm, f"This needs the {', '.join(scopes)} scope.", named)
        return claims

    return with_scopes


def _scope_token(cap: str) -> bool:
    """Whether `cap` may be named in WWW-Authenticate's `scope` (RFC 6749 §3.3 scope-token)."""
    return bool(cap) and all(0x21 <= ord(c) <= 0x7E and c not in '"\\' for c in cap)
