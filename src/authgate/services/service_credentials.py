"""Service credentials: how another service proves who it is when it asks about a token
(`POST /token/introspect`, services/introspection.py).

A credential is a client id (the row's id) and a secret (`agsvc_` and 256 random bits),
shown once when it is created; only the secret's SHA-256 is kept (a slow hash adds nothing
to 256 random bits). Checking one costs the same for an unknown client id as for a known
one: one lookup, one digest, one constant-time comparison, so the answer's timing does not
tell which ids exist. A revoked credential is refused at once, on every node: every check
reads the row. Its last use is written at most once a minute, not once per request.
Creating and revoking are one transaction each, with their audit entry.
"""

from __future__ import annotations

import hmac
from datetime import timedelta

from authgate.core.parts import Parts
from authgate.errors import FieldError, invalid_client, not_found, validation_failed
from authgate.security.opaque import digest, random_token
from authgate.security.text import has_control_characters
from authgate.storage.models import OAuthClient as ServiceCredential
from authgate.storage.models import new_id, utcnow
from authgate.storage.models.oauth2 import SERVICE
from authgate.storage.repositories import service_credentials as credential_repo

SECRET_PREFIX = "agsvc_"  # noqa: S105 (a prefix, not a secret): tells a leaked secret apart in a scan
SECRET_BYTES = 32  # 256 random bits
NAME_MAX = 100
CLIENT_ID_MAX = 36
TOUCH_EVERY = timedelta(minutes=1)  # how stale `last_used_at` may get
# Compared against when the client id is unknown, so that an unknown id costs the same work:
# the digest of a secret no one was ever given.
_DECOY = digest(random_token(SECRET_BYTES))


def new_secret() -> str:
    return SECRET_PREFIX + random_token(SECRET_BYTES)


def _checked_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > NAME_MAX or has_control_characters(name):
        raise validation_failed(
            FieldError("name", f"A name of 1 to {NAME_MAX} characters, without control characters.")
        )
    return name


async def create(rt: Parts, *, name: str) -> tuple[ServiceCredential, str]:
    """A new credential and its secret, which is never shown again."""
    secret = new_secret()
    credential = ServiceCredential(
        id=new_id(),
        name=_checked_name(name),
        kind=SERVICE,
        secret_hash=digest(secret),
        first_party=False,
        redirect_uris="",
        post_logout_redirect_uris="",
        scopes="",
        client_credentials=True,
        created_at=utcnow(),
    )
    async with rt.uow() as tx:
        await credential_repo.add(tx.db, credential=credential)
        tx.audit("service_credential.created", user_id=None, credential=credential.id, name=credential.name)
    return credential, secret


async def list_credentials(rt: Parts) -> list[ServiceCredential]:
    async with rt.read() as db:
        return await credential_repo.all_credentials(db)


async def revoke(rt: Parts, *, credential_id: str) -> tuple[ServiceCredential, bool]:
    """Revoke a credential; its next check is refused. Returns it, and whether this call
    revoked it (False: it was revoked already, and nothing changed)."""
    async with rt.uow() as tx:
        credential = await credential_repo.lock(tx.db, credential_id=credential_id)
        if credential is None or credential.kind != SERVICE:
            raise not_found("No such service credential.")
        if credential.revoked_at is not None:
            return credential, False
        credential.revoked_at = utcnow()
        await tx.db.flush()
        tx.audit("service_credential.revoked", user_id=None, credential=credential.id, name=credential.name)
    return credential, True


async def authenticate(rt: Parts, *, client_id: str, secret: str) -> ServiceCredential:
    """The credential, if `secret` is its secret and it is not revoked; 401 `invalid_client`
    otherwise, after the same work whether or not the client id exists."""
    now = utcnow()
    # An id that cannot exist (too long, or holding a NUL byte PostgreSQL would refuse) is
    # not looked up; that it is malformed is no secret.
    plausible = 0 < len(client_id) <= CLIENT_ID_MAX and not has_control_characters(client_id)
    async with rt.read() as db:
        credential = await credential_repo.get(db, credential_id=client_id) if plausible else None
        if credential is not None and credential.kind != SERVICE:
            credential = None
        stored = credential.secret_hash if credential is not None and credential.secret_hash else _DECOY
        right = hmac.compare_digest(digest(secret).encode("ascii"), stored.encode("ascii"))
        if credential is None or not right or credential.revoked_at is not None:
            raise invalid_client()
        if credential.last_used_at is None or credential.last_used_at <= now - TOUCH_EVERY:
            await credential_repo.touch(db, credential_id=credential.id, now=now, unless_since=now - TOUCH_EVERY)
    return credential
