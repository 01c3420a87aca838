"""Reading the audit trail and checking its chain (storage/audit_chain.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from authgate.core.parts import Parts
from authgate.errors import FieldError, said, validation_failed
from authgate.security.text import has_control_characters
from authgate.services.pagination import decode_cursor, encode_cursor
from authgate.storage import audit_chain
from authgate.storage.models import AuditEntry
from authgate.storage.repositories import audit as audit_repo
from authgate.storage.repositories import users as user_repo

TYPES_MAX = 20


@dataclass(frozen=True)
class AuditQuery:
    user_id: str | None = None
    types: str | None = None  # comma-separated exact types
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive
    cursor: str | None = None
    limit: int = 50


@dataclass(frozen=True)
class AuditPage:
    items: list[AuditEntry]
    next_cursor: str | None


def _zoned(field: str, moment: datetime | None, errors: list[FieldError]) -> None:
    if moment is not None and moment.tzinfo is None:
        errors.append(FieldError(field, "Give a time zone, e.g. 2026-11-23T12:00:00Z."))


async def entries(rt: Parts, query: AuditQuery) -> AuditPage:
    """One page, newest first; the cursor is the place of the page's last entry."""
    errors: list[FieldError] = []
    _zoned("since", query.since, errors)
    _zoned("until", query.until, errors)
    types = [t.strip() for t in (query.types or "").split(",") if t.strip()]
    for field, value in (("userId", query.user_id), ("type", query.types)):
        if value is not None and has_control_characters(value):
            errors.append(FieldError(field, "Control characters are not allowed."))
    if len(types) > TYPES_MAX:
        errors.append(FieldError("type", said("At most %(maximum)s types.", maximum=TYPES_MAX)))
    if errors:
        raise validation_failed(*errors)
    before = int(decode_cursor(query.cursor, int)[0]) if query.cursor else None
    async with rt.read() as db:
        items = await audit_repo.newest_first(
            db,
            user_id=query.user_id,
            types=types,
            since=query.since,
            until=query.until,
            before_seq=before,
            limit=query.limit + 1,
        )
    more = len(items) > query.limit
    items = items[: query.limit]
    return AuditPage(items=items, next_cursor=encode_cursor(items[-1].seq) if more else None)


async def names_of(rt: Parts, user_ids: set[str]) -> dict[str, str]:
    """Who the entries name, as the trail shows them to whoever may read it: each account's
    email while it exists, else its id (a deleted account's entries keep the id alone)."""
    async with rt.read() as db:
        emails = await user_repo.emails_of(db, user_ids=sorted(user_ids))
    return {user_id: emails.get(user_id, user_id) for user_id in user_ids}


async def verify(rt: Parts) -> audit_chain.Verdict:
    async with rt.read() as db:
        return await audit_chain.verify(db, rt.chain)
