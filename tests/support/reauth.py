"""Recent proof behind the API: the principal an access token names (as a hosted page would
get it), the session row's proof columns, and aging them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select, update

from authgate.core.principal import Principal
from authgate.signin.sessions import authenticate
from authgate.storage.models import Session, utcnow
from tests.support.app import runtime, sql


async def principal_of(client: httpx.AsyncClient, token: str) -> Principal:
    """The caller `token` names, through the same caches a request goes through."""
    return await authenticate(runtime(client), token)


async def proof_columns(client: httpx.AsyncClient, session_id: str) -> dict[str, Any]:
    """The session's sign-in time and its latest re-authentication, as stored."""
    rows = await sql(
        client,
        select(Session.created_at, Session.reauthenticated_at, Session.reauth_spent_at, Session.reauth_method).where(
            Session.id == session_id
        ),
    )
    created_at, reauthenticated_at, spent_at, method = rows[0]
    return {"created_at": created_at, "reauthenticated_at": reauthenticated_at, "spent_at": spent_at, "method": method}


async def age_session(client: httpx.AsyncClient, session_id: str, **seconds_ago: int) -> None:
    """Move the session's `created_at` / `reauthenticated_at` this many seconds into the past,
    and drop the cached principal so the next request reads it."""
    now = utcnow()
    values: dict[str, datetime] = {column: now - timedelta(seconds=ago) for column, ago in seconds_ago.items()}
    await sql(client, update(Session).where(Session.id == session_id).values(**values))
    runtime(client).principals.drop_sessions([session_id])
