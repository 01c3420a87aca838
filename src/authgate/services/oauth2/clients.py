"""(placeholder until the clients work lands: the lookups the protocol needs)"""

from __future__ import annotations

import hmac

from authgate.core.parts import Parts
from authgate.errors import invalid_client
from authgate.security.oauth2 import scope_list
from authgate.security.opaque import digest, random_token
from authgate.security.text import has_control_characters
from authgate.storage.models import OAuthClient

_DECOY = digest(random_token(32))


async def live_client(rt: Parts, client_id: str) -> OAuthClient | None:
    if not client_id or len(client_id) > 36 or has_control_characters(client_id):
        return None
    async with rt.read() as db:
        client = await db.get(OAuthClient, client_id, populate_existing=True)
    return client if client is not None and client.revoked_at is None else None


async def authenticate_client(rt: Parts, *, client_id: str, secret: str | None) -> OAuthClient:
    client = await live_client(rt, client_id)
    if client is None or client.kind == "public":
        stored = _DECOY
    else:
        stored = client.secret_hash or _DECOY
    if client is None:
        hmac.compare_digest(digest(secret or "").encode(), stored.encode())
        raise invalid_client()
    if client.kind == "public":
        if secret is not None:
            raise invalid_client()
        return client
    if secret is None or not hmac.compare_digest(digest(secret).encode(), stored.encode()):
        raise invalid_client()
    return client


def redirect_uris(client: OAuthClient) -> list[str]:
    return scope_list(client.redirect_uris)


def post_logout_redirect_uris(client: OAuthClient) -> list[str]:
    return scope_list(client.post_logout_redirect_uris)


def scopes_of(client: OAuthClient) -> list[str]:
    return scope_list(client.scopes)


def audience_of(client: OAuthClient) -> str:
    return client.access_token_audience or client.id


def allows_grant(client: OAuthClient, grant_type: str) -> bool:
    if client.kind == "service":
        return grant_type == "client_credentials"
    if grant_type == "client_credentials":
        return client.kind == "confidential" and client.client_credentials
    return grant_type in ("authorization_code", "refresh_token")
