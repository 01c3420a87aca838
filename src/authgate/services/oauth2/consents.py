"""What a user allowed each third-party app: remembered per user and client as a set of
scopes, listed and revoked by the user. Revoking a consent ends every grant of that user to
that app at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from authgate.core.parts import Parts
from authgate.errors import not_found
from authgate.security.oauth2 import scope_list
from authgate.storage.models import utcnow
from authgate.storage.repositories import oauth_consents as consent_repo
from authgate.storage.repositories import oauth_grants as grant_repo
from authgate.storage.uow import UnitOfWork


@dataclass(frozen=True)
class Consent:
    client_id: str
    client_name: str
    scopes: list[str]
    granted_at: datetime


async def allowed(rt: Parts, *, user_id: str, client_id: str) -> list[str]:
    async with rt.read() as db:
        found = await consent_repo.get(db, user_id=user_id, client_id=client_id)
    return scope_list(found.scopes) if found is not None else []


async def covers(rt: Parts, *, user_id: str, client_id: str, scopes: list[str]) -> bool:
    """Did the user allow this app every one of `scopes` already?"""
    return set(scopes) <= set(await allowed(rt, user_id=user_id, client_id=client_id))


async def to_ask(rt: Parts, *, user_id: str, client_id: str, scopes: list[str]) -> list[str]:
    """What a consent page asks: the union of what was allowed before and what is asked now
    (so that allowing cannot narrow an earlier decision behind the user's back)."""
    earlier = await allowed(rt, user_id=user_id, client_id=client_id)
    return [*earlier, *(scope for scope in scopes if scope not in earlier)]


async def put(tx: UnitOfWork, *, user_id: str, client_id: str, scopes: list[str]) -> None:
    """Record the user's decision in the caller's unit of work, with its audit entry and event."""
    await consent_repo.put(tx.db, user_id=user_id, client_id=client_id, scopes=" ".join(scopes), now=utcnow())
    tx.audit("oauth2.consent_granted", user_id=user_id, client=client_id, scopes=scopes)
    tx.emit("oauth2.consent_granted", userId=user_id, clientId=client_id, scopes=scopes)


async def of_user(rt: Parts, *, user_id: str) -> list[Consent]:
    async with rt.read() as db:
        rows = await consent_repo.of_user(db, user_id=user_id)
    return [
        Consent(client_id=client.id, client_name=client.name, scopes=scope_list(c.scopes), granted_at=c.granted_at)
        for c, client in rows
    ]


async def revoke(rt: Parts, *, user_id: str, client_id: str) -> None:
    """Forget the consent and end every grant of this user to this app; 404 if none is held."""
    async with rt.uow() as tx:
        if not await consent_repo.remove(tx.db, user_id=user_id, client_id=client_id):
            raise not_found("You have not allowed this app anything.")
        await grant_repo.end(tx.db, now=utcnow(), reason="consent_revoked", user_id=user_id, client_id=client_id)
        tx.audit("oauth2.consent_revoked", user_id=user_id, client=client_id)
        tx.emit("oauth2.consent_revoked", userId=user_id, clientId=client_id)
