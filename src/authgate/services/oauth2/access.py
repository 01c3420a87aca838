"""Is an app's token good right now? For userinfo and introspection, straight from the
database: the token verifies, its client is not revoked, and its grant is live (a grant that
ended, by logout, revocation, replay or reuse, ends its access tokens at once); a
client-credentials token is not on the revoked list."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from authgate.core.parts import Parts
from authgate.errors import AuthError, invalid_token
from authgate.security.oauth2 import scope_list
from authgate.security.opaque import digest
from authgate.services.oauth2 import clients as client_service
from authgate.services.oauth2.grants import denied, live
from authgate.services.oauth2.tokens import read_access_token
from authgate.storage.models import OAuthClient, OAuthGrant, User, utcnow
from authgate.storage.repositories import oauth_grants as grant_repo


@dataclass(frozen=True)
class AppToken:
    claims: dict[str, Any]
    client: OAuthClient
    user: User | None  # None for client credentials
    scopes: list[str]


async def access(rt: Parts, token: str) -> AppToken:
    """The live app access token's parts; raises 401 `invalid_token`."""
    claims = await read_access_token(rt, token)
    client = await client_service.live_client(rt, str(claims["client_id"]))
    if client is None:
        raise invalid_token()
    grant_id = claims.get("gid")
    if grant_id is None:
        if await denied(rt, str(claims.get("jti"))):
            raise invalid_token()
        return AppToken(claims, client, None, scope_list(claims.get("scope")))
    async with rt.read() as db:
        parts = await grant_repo.with_parts(db, grant_id=str(grant_id))
    if parts is None:
        raise invalid_token()
    grant, owner, user, browser = parts
    if owner.id != client.id or not live(grant, owner, user, browser, utcnow()):
        raise invalid_token("The grant has ended.")
    return AppToken(claims, client, user, scope_list(claims.get("scope")))


async def refresh_grant(rt: Parts, token: str) -> tuple[OAuthGrant, OAuthClient, User] | None:
    """The live grant whose current refresh token this is (looking changes nothing)."""
    presented = digest(token)
    async with rt.read() as db:
        grant = await grant_repo.by_refresh(db, token_hash=presented)
        if grant is None or grant.refresh_hash != presented:
            return None
        parts = await grant_repo.with_parts(db, grant_id=grant.id)
    if parts is None:
        return None
    grant, client, user, browser = parts
    return (grant, client, user) if live(grant, client, user, browser, utcnow()) else None


async def access_or_none(rt: Parts, token: str) -> AppToken | None:
    try:
        return await access(rt, token)
    except AuthError:
        return None
