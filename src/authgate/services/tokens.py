"""Refresh-token rotation with a reuse grace window and reuse detection, and logout.

A session is its own refresh-token family: it stores the digest of the current refresh token
and of the one just rotated. Each use rotates: one conditional UPDATE of the session row
(`WHERE refresh_hash = <presented>`) swaps in the new digest, so of N concurrent uses exactly
one mints a new token. The winner also seals the new pair on the row (AES-GCM via `rt.box`,
bound to the session id); for `refresh_reuse_grace_seconds` the losers, or a second browser
tab, presenting the just-rotated token get that same pair back instead of being logged out.
Presenting the just-rotated token after the window is treated as theft: the session is
revoked. Older tokens are simply unknown (401): their holder can do nothing with them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from authgate.errors import AuthError, invalid_token
from authgate.security.tokens import digest
from authgate.services.principals import Principal
from authgate.services.runtime import Runtime
from authgate.services.sessions import (
    LoginResult,
    after_revoke,
    authenticate,
    mint_access_token,
    new_refresh_token,
    revoke_sessions,
)
from authgate.storage.models import Session, User, utcnow
from authgate.storage.repositories import sessions as session_repo

ENDED = "The session has ended."
REUSED = "The refresh token was already used; the session has been ended."
SWEEP_EVERY_SECONDS = 1.0


@dataclass(frozen=True)
class _Reuse:
    """Reuse was detected and the session revoked (committed); the caller gets a 401."""

    session_id: str


def _seal(rt: Runtime, session_id: str, refresh_token: str, access_token: str) -> str:
    payload = orjson.dumps({"r": refresh_token, "a": access_token}).decode("ascii")
    return rt.box.seal(payload, context=session_id)


def _replay(rt: Runtime, session: Session, user: User, now: datetime) -> LoginResult | None:
    """The pair the winner sealed on the session, or None if it cannot be opened."""
    if session.successor_sealed is None or session.rotated_at is None:
        return None
    try:
        payload = orjson.loads(rt.box.open(session.successor_sealed, context=session.id))
    except (ValueError, orjson.JSONDecodeError):
        return None
    elapsed = int((now - session.rotated_at).total_seconds())
    return LoginResult(
        user=user,
        session_id=session.id,
        access_token=payload["a"],
        expires_in=max(0, rt.settings.access_ttl_seconds - elapsed),
        refresh_token=payload["r"],
    )


def _live(session: Session, user: User, now: datetime) -> bool:
    return session.revoked_at is None and session.expires_at > now and not user.disabled


def _sweep_due(rt: Runtime) -> bool:
    """At most once a second per process: wiping stale sealed pairs is not per-request work."""
    now = time.monotonic()
    if rt.next_refresh_sweep > now:
        return False
    rt.next_refresh_sweep = now + SWEEP_EVERY_SECONDS
    return True


async def refresh(rt: Runtime, *, token: str) -> LoginResult:
    """Exchange a refresh token for a new pair; raise 401 `invalid_token` otherwise."""
    now = utcnow()
    presented = digest(token)
    grace = timedelta(seconds=rt.settings.refresh_reuse_grace_seconds)
    outcome: LoginResult | _Reuse
    # Every statement here commits on its own (an autocommit session): the rotation is one
    # conditional UPDATE, so no lock is held across the lookup, the signing and the write.
    async with rt.autocommit() as db:
        found = await session_repo.find_by_refresh_hash(db, token_hash=presented)
        if found is None:
            raise invalid_token("The refresh token is not valid.")
        session, user = found
        if not _live(session, user, now):
            raise invalid_token(ENDED)

        if session.refresh_hash == presented:
            new_token, new_hash = new_refresh_token()
            access = mint_access_token(rt, user=user, session_id=session.id, amr=session.amr.split(","))
            sealed = _seal(rt, session.id, new_token, access)
            async with rt.write_turn:
                rotated = await session_repo.rotate_refresh(
                    db,
                    session_id=session.id,
                    presented_hash=presented,
                    new_hash=new_hash,
                    sealed=sealed,
                    now=now,
                    expires_at=now + timedelta(seconds=rt.settings.refresh_token_ttl_seconds),
                )
            if rotated:
                if _sweep_due(rt):
                    await session_repo.wipe_sealed_before(db, before=now - grace)
                return LoginResult(
                    user=user,
                    session_id=session.id,
                    access_token=access,
                    expires_in=rt.settings.access_ttl_seconds,
                    refresh_token=new_token,
                )
            # Lost the race: read what the winner committed.
            fresh = await session_repo.get(db, session_id=session.id)
            if fresh is None or not _live(fresh, user, now) or fresh.previous_refresh_hash != presented:
                raise invalid_token(ENDED)
            session = fresh

        outcome = await _just_rotated(rt, db, session=session, user=user, now=now, grace=grace)
    if isinstance(outcome, _Reuse):
        after_revoke(rt, [outcome.session_id], "refresh_token_reuse")
        raise invalid_token(REUSED)
    return outcome


async def _just_rotated(
    rt: Runtime, db: AsyncSession, *, session: Session, user: User, now: datetime, grace: timedelta
) -> LoginResult | _Reuse:
    """The token presented is the one just rotated: within the grace window the same pair
    again; after it, reuse, and the session is revoked."""
    if grace and session.rotated_at is not None and now - session.rotated_at <= grace:
        replay = _replay(rt, session, user, now)
        if replay is not None:
            return replay
    await session_repo.revoke(db, session_ids=[session.id])
    return _Reuse(session.id)


async def logout(rt: Runtime, *, access_token: str | None, refresh_token: str | None) -> list[str]:
    """End the session named by a valid access token and/or the session of a known refresh
    token. Nothing valid is not an error: logging out is idempotent."""
    session_ids: list[str] = []
    if access_token:
        try:
            principal: Principal = await authenticate(rt, access_token)
        except AuthError:
            pass
        else:
            session_ids.append(principal.session_id)
    if refresh_token:
        async with rt.autocommit() as db:
            sid = await session_repo.session_id_for_refresh(db, token_hash=digest(refresh_token))
        if sid is not None and sid not in session_ids:
            session_ids.append(sid)
    if not session_ids:
        return []
    return await revoke_sessions(rt, session_ids=session_ids, reason="logout")
