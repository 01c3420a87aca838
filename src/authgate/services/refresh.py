"""Refresh-token rotation with a reuse grace window and reuse detection, and logout.

A session is its own refresh-token family: it stores the digest of the current refresh token
and of the one just rotated, and every token it ever rotated out is kept as retired until the
session goes. Each use rotates: one conditional UPDATE of the session row (`WHERE
refresh_hash = <presented>`) swaps in the new digest, so of N concurrent uses exactly one
mints a new token. The winner also seals the new pair on the row (AES-GCM via `rt.box`,
bound to the session id); for `refresh_reuse_grace_seconds` the losers, or a second browser
tab, presenting the just-rotated token get that same pair back instead of being logged out.

Presenting any retired token after that window is taken as theft: the session is revoked,
so a thief who keeps refreshing is cut off the moment the owner's older token shows up (or
the other way round). Each refresh extends the session, but never past its absolute end.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import orjson

from authgate.core.parts import Parts
from authgate.core.principal import Principal
from authgate.errors import AuthError, invalid_token
from authgate.security.opaque import digest
from authgate.signin.sessions import (
    LoginResult,
    authenticate,
    mint_access_token,
    new_refresh_token,
    revoke_sessions,
)
from authgate.storage.models import Session, User, utcnow
from authgate.storage.repositories import sessions as session_repo

INVALID = "The refresh token is not valid."
ENDED = "The session has ended."
REUSED = "The refresh token was already used; the session has been ended."
SWEEP_EVERY_SECONDS = 1.0


@dataclass(frozen=True)
class _Reuse:
    """A retired token came back after the grace window: its session is to be revoked."""

    session_id: str


def _seal(rt: Parts, session_id: str, refresh_token: str, access_token: str) -> str:
    payload = orjson.dumps({"r": refresh_token, "a": access_token}).decode("ascii")
    return rt.box.seal(payload, context=session_id)


def _replay(rt: Parts, session: Session, user: User, now: datetime) -> LoginResult | None:
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


def _sweep_due(rt: Parts) -> bool:
    """At most once a second per process: wiping stale sealed pairs is not per-request work."""
    now = time.monotonic()
    if rt.next_refresh_sweep > now:
        return False
    rt.next_refresh_sweep = now + SWEEP_EVERY_SECONDS
    return True


def _slid(rt: Parts, session: Session, now: datetime) -> datetime:
    """The session's new end after a refresh: renewed, but never past its absolute end."""
    renewed = now + timedelta(seconds=rt.settings.refresh_token_ttl_seconds)
    return min(renewed, session.ends_at) if session.ends_at is not None else renewed


async def refresh(rt: Parts, *, token: str) -> LoginResult:
    """Exchange a refresh token for a new pair; raise 401 `invalid_token` otherwise."""
    now = utcnow()
    presented = digest(token)
    grace = timedelta(seconds=rt.settings.refresh_reuse_grace_seconds)
    outcome: LoginResult | _Reuse
    # Lookups and the rotation each commit on their own: the rotation is one conditional
    # UPDATE, so no lock is held across the lookup, the signing and the write.
    async with rt.read() as db:
        found = await session_repo.find_by_refresh_hash(db, token_hash=presented)
        if found is None:
            retired_from = await session_repo.session_of_retired(db, token_hash=presented)
            if retired_from is None:
                raise invalid_token(INVALID)
            outcome = _Reuse(retired_from)
        else:
            session, user = found
            if not _live(session, user, now):
                raise invalid_token(ENDED)
            if session.refresh_hash == presented:
                new_token, new_hash = new_refresh_token()
                access = mint_access_token(rt, user=user, session_id=session.id, amr=session.amr.split(","))
                rotated = await session_repo.rotate_refresh(
                    db,
                    session_id=session.id,
                    presented_hash=presented,
                    new_hash=new_hash,
                    sealed=_seal(rt, session.id, new_token, access),
                    now=now,
                    expires_at=_slid(rt, session, now),
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
            outcome = _just_rotated(rt, session=session, user=user, now=now, grace=grace)
    if isinstance(outcome, _Reuse):
        async with rt.uow() as tx:
            owner = await session_repo.get(tx.db, session_id=outcome.session_id)
            user_id = owner.user_id if owner is not None else None
            ended = await revoke_sessions(
                tx, rt, session_ids=[outcome.session_id], user_id=user_id, reason="refresh_token_reuse"
            )
            tx.audit("refresh_token.reused", user_id=user_id, sessionId=outcome.session_id, sessionEnded=bool(ended))
        raise invalid_token(REUSED)
    return outcome


def _just_rotated(rt: Parts, *, session: Session, user: User, now: datetime, grace: timedelta) -> LoginResult | _Reuse:
    """The token presented is the one just rotated: within the grace window the same pair
    again; after it, reuse."""
    if grace and session.rotated_at is not None and now - session.rotated_at <= grace:
        replay = _replay(rt, session, user, now)
        if replay is not None:
            return replay
    return _Reuse(session.id)


async def logout(rt: Parts, *, access_token: str | None, refresh_token: str | None) -> list[str]:
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
        async with rt.read() as db:
            sid = await session_repo.session_id_for_refresh(db, token_hash=digest(refresh_token))
        if sid is not None and sid not in session_ids:
            session_ids.append(sid)
    if not session_ids:
        return []
    async with rt.uow() as tx:
        return await revoke_sessions(tx, rt, session_ids=session_ids, reason="logout")
