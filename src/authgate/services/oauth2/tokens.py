"""The tokens the provider gives apps: ID tokens (for the app itself) and access tokens (RFC
9068, for the app's APIs), both RS256 through the key ring.

An app's access token says `"purpose": "oauth_access"` and names the client as its audience,
so authgate's own API (which takes `"purpose": "access"` for `aud` = AUTHGATE_JWT_AUDIENCE
only) refuses it: a token handed to an app can never change the user's password, factors or
sessions. It carries its grant's id (`gid`), so userinfo and introspection see a grant that
ended at once.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from authgate.core.parts import Parts
from authgate.errors import AuthError, invalid_token
from authgate.security.oauth2 import OPENID, acr_of, at_hash
from authgate.services.oauth2 import clients as client_service
from authgate.storage.models import OAuthClient, User

OAUTH_ACCESS = "oauth_access"
ACCESS_TYP = "at+jwt"
ID_TYP = "JWT"


@dataclass(frozen=True)
class Authorization:
    """What a grant knows of the sign-in behind it: who, when, how, in which session."""

    user: User
    scopes: list[str]
    session_id: str | None
    auth_time: datetime
    amr: list[str]
    grant_id: str


def user_claims(user: User, scopes: list[str]) -> dict[str, Any]:
    """The claims of the granted scopes (OIDC Core §5.4); a claim without a value is left out."""
    claims: dict[str, Any] = {}
    if "profile" in scopes:
        claims.update(name=user.name, preferred_username=user.username, updated_at=int(user.updated_at.timestamp()))
    if "email" in scopes:
        claims.update(email=user.email, email_verified=bool(user.email_verified))
    if "phone" in scopes and user.phone:
        claims.update(phone_number=user.phone, phone_number_verified=bool(user.phone_verified))
    return {name: value for name, value in claims.items() if value is not None}


def access_token(
    rt: Parts,
    *,
    client: OAuthClient,
    scopes: list[str],
    subject: Authorization | None,
    issued_at: int | None = None,
    token_id: str | None = None,
) -> str:
    """An app's access token; `subject` None for client credentials (`sub` = the client)."""
    now = int(time.time()) if issued_at is None else issued_at
    payload: dict[str, Any] = {
        "iss": rt.settings.issuer,
        "sub": client.id,
        "aud": client_service.audience_of(client),
        "exp": now + rt.settings.access_ttl_seconds,
        "iat": now,
        "jti": token_id or uuid.uuid4().hex,
        "client_id": client.id,
        "scope": " ".join(scopes),
        "purpose": OAUTH_ACCESS,
    }
    if subject is not None:
        payload.update(
            sub=subject.user.id,
            auth_time=int(subject.auth_time.timestamp()),
            amr=subject.amr,
            gid=subject.grant_id,
        )
        if subject.session_id is not None:
            payload["sid"] = subject.session_id
        if "email" in scopes:
            payload["email"] = subject.user.email
        if client.first_party:
            payload.update(role=subject.user.role, caps=rt.roles.caps(subject.user.role))
    return rt.codec.sign(payload, typ=ACCESS_TYP)


def id_token(
    rt: Parts,
    *,
    client: OAuthClient,
    subject: Authorization,
    access: str,
    nonce: str | None,
    issued_at: int | None = None,
) -> str:
    now = int(time.time()) if issued_at is None else issued_at
    payload: dict[str, Any] = {
        "iss": rt.settings.issuer,
        "sub": subject.user.id,
        "aud": client.id,
        "azp": client.id,
        "exp": now + rt.settings.access_ttl_seconds,
        "iat": now,
        "auth_time": int(subject.auth_time.timestamp()),
        "amr": subject.amr,
        "acr": acr_of(subject.amr),
        "at_hash": at_hash(access),
    }
    if nonce:
        payload["nonce"] = nonce
    if subject.session_id is not None:
        payload["sid"] = subject.session_id
    payload.update(user_claims(subject.user, subject.scopes))
    return rt.codec.sign(payload, typ=ID_TYP)


def wants_id_token(scopes: list[str]) -> bool:
    return OPENID in scopes


async def read_access_token(rt: Parts, token: str) -> dict[str, Any]:
    """The claims of an app's access token that verifies (key, `typ` at+jwt, `iss`, `exp`,
    purpose); its audience is the app's API's, so it is not checked here. Raises 401."""
    if token.count(".") != 2:
        raise invalid_token()
    claims = await rt.codec.verify(token, typ=ACCESS_TYP, purpose=OAUTH_ACCESS)
    if not isinstance(claims.get("client_id"), str):
        raise invalid_token()
    return claims


async def read_id_token_hint(rt: Parts, token: str) -> dict[str, Any] | None:
    """An ID token authgate issued (signature and `iss`; its expiry is not asked), or None."""
    if token.count(".") != 2:
        return None
    try:
        claims = await rt.codec.verify(token, typ=ID_TYP, expiry=False)
    except AuthError:
        return None
    if "purpose" in claims or not isinstance(claims.get("aud"), str | list):
        return None  # one of authgate's own tokens, not an ID token
    return claims
