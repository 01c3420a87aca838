"""Token introspection (RFC 7662): is this token active right now, and whose is it?

Services that verify access tokens locally see a revocation only when the token expires;
those that must see it at once ask here. So the answer reads the token's session and user
straight from the database on every call, never through the principal cache (which may be
up to a second behind on another node).

An access token is active when it verifies (signature, `exp`, `iss`, `aud`, purpose), its
session is live and its user exists and is not disabled; the answer carries its claims. A
refresh token is active when it is its session's current one (a rotated-out one is not,
even within the refresh grace window) and the session and user are live; looking it up
changes nothing (no rotation, no reuse detection). Everything else is `{"active": false}`,
with no reason: a caller learns nothing about a token it could not use.
"""

from __future__ import annotations

from typing import Any

from authgate.core.parts import Parts
from authgate.errors import AuthError
from authgate.security.opaque import digest
from authgate.services.oauth2 import access as app_tokens
from authgate.signin.sessions import authenticate
from authgate.storage.models import OAuthClient, utcnow
from authgate.storage.models.oauth2 import SERVICE
from authgate.storage.repositories import sessions as session_repo

ACCESS_TOKEN = "access_token"  # noqa: S105 (the RFC 7662 token type names)
REFRESH_TOKEN = "refresh_token"  # noqa: S105
INACTIVE: dict[str, Any] = {"active": False}
# Claims of an access token that the answer repeats (RFC 7662 §2.2, and authgate's own).
ACCESS_CLAIMS = ("sub", "sid", "exp", "iat", "iss", "aud", "jti", "email", "role", "caps", "amr")
# Claims of an app's access token (the OpenID provider's, RFC 9068) that the answer repeats.
APP_CLAIMS = ("scope", "sub", "sid", "exp", "iat", "iss", "aud", "jti", "email", "role", "caps", "amr", "auth_time")


def _is_jwt(token: str) -> bool:
    """A refresh token is URL-safe base64 and never holds a dot; a JWT always holds two."""
    return token.count(".") == 2


def _may_see_any(caller: OAuthClient | None) -> bool:
    """A service (or authgate's own check) may ask about any token; an app only about its own."""
    return caller is None or caller.kind == SERVICE


async def _access(rt: Parts, token: str, caller: OAuthClient | None) -> dict[str, Any] | None:
    if not _is_jwt(token) or not _may_see_any(caller):
        return None
    try:
        principal = await authenticate(rt, token, fresh=True)
    except AuthError:
        return None
    answer: dict[str, Any] = {"active": True, "token_type": ACCESS_TOKEN}
    answer.update((name, principal.claims[name]) for name in ACCESS_CLAIMS if name in principal.claims)
    if principal.user.username:
        answer["username"] = principal.user.username
    return answer


async def _refresh(rt: Parts, token: str, caller: OAuthClient | None) -> dict[str, Any] | None:
    if _is_jwt(token) or not _may_see_any(caller):
        return None
    presented = digest(token)
    found = await session_repo.find_by_refresh_hash(rt.lane, token_hash=presented)
    if found is None:
        return None
    session, user = found
    now = utcnow()
    if session.refresh_hash != presented or session.revoked_at is not None or session.expires_at <= now:
        return None  # rotated out, revoked or expired
    if user.disabled:
        return None
    answer: dict[str, Any] = {
        "active": True,
        "token_type": REFRESH_TOKEN,
        "sub": user.id,
        "sid": session.id,
        "exp": int(session.expires_at.timestamp()),
        "iat": int((session.rotated_at or session.created_at).timestamp()),
        "iss": rt.settings.issuer,
    }
    if user.username:
        answer["username"] = user.username
    return answer


async def _app_access(rt: Parts, token: str, caller: OAuthClient | None) -> dict[str, Any] | None:
    """An access token the OpenID provider gave an app: for a service, or for that app."""
    if not _is_jwt(token):
        return None
    found = await app_tokens.access_or_none(rt, token)
    if found is None or (not _may_see_any(caller) and caller is not None and caller.id != found.client.id):
        return None
    answer: dict[str, Any] = {"active": True, "token_type": ACCESS_TOKEN, "client_id": found.client.id}
    answer.update((name, found.claims[name]) for name in APP_CLAIMS if name in found.claims)
    if found.user is not None and found.user.username:
        answer["username"] = found.user.username
    return answer


async def _app_refresh(rt: Parts, token: str, caller: OAuthClient | None) -> dict[str, Any] | None:
    if _is_jwt(token):
        return None
    found = await app_tokens.refresh_grant(rt, token)
    if found is None:
        return None
    grant, client, user = found
    if not _may_see_any(caller) and caller is not None and caller.id != client.id:
        return None
    answer: dict[str, Any] = {
        "active": True,
        "token_type": REFRESH_TOKEN,
        "client_id": client.id,
        "scope": grant.scopes,
        "sub": user.id,
        "exp": int(grant.expires_at.timestamp()),
        "iat": int((grant.rotated_at or grant.created_at).timestamp()),
        "iss": rt.settings.issuer,
    }
    if grant.session_id is not None:
        answer["sid"] = grant.session_id
    if user.username:
        answer["username"] = user.username
    return answer


async def introspect(
    rt: Parts, *, token: str, hint: str | None = None, caller: OAuthClient | None = None
) -> dict[str, Any]:
    """The RFC 7662 answer for `token`. The hint only orders the lookups (§2.1): a token of
    the other type is still found. A service (or no `caller`: authgate's own check) may ask
    about any token; an app only about the tokens it was given."""
    accesses = (_access, _app_access)
    refreshes = (_refresh, _app_refresh)
    kinds = (*refreshes, *accesses) if hint == REFRESH_TOKEN else (*accesses, *refreshes)
    for kind in kinds:
        answer = await kind(rt, token, caller)
        if answer is not None:
            return answer
    return dict(INACTIVE)
