"""Refresh-token rotation with a reuse grace window and reuse detection, and logout.

A session is its own refresh-token family: it stores the digest of the current refresh token
and of the one just rotated, and every token it ever rotated out is kept as retired until the
session goes. Each use rotates, in one statement: an UPDATE keyed by the presented digest
swaps in the new digest and returns the session and its user, so of N concurrent uses exactly
one mints a new token, and the common case is one round trip to the database.

The same statement stores the new refresh token sealed (AES-GCM via `rt.box`, bound to the
digest of the token it replaces). For `refresh_reuse_grace_seconds` the losers of a race, or
a second browser tab, presenting the just-rotated token get the same pair back instead of
being logged out: the sealed refresh token, and the access token made again from the same
claims, issue time and token id (`jti`, derived from the new token's digest), which under
HS256, RS256 and EdDSA is the same token byte for byte (ES256 signatures are randomised: there
it is an equivalent token for the same session).

Presenting any retired token after that window is taken as theft: the session is revoked,
so a thief who keeps refreshing is cut off the moment the owner's older token shows up (or
the other way round). Each refresh extends the session, but never past its absolute end.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

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


def _sealing_context(replaced_hash: str) -> str:
    return f"successor-of:{replaced_hash}"


def _access_token(rt: Parts, session: Session, user: User, rotated_at: datetime) -> str:
    """The access token of a rotation: the same whenever it is made again for that rotation."""
    assert session.refresh_hash is not None
    return mint_access_token(
        rt,
        user=user,
        session_id=session.id,
        amr=session.amr.split(","),
        issued_at=int(rotated_at.timestamp()),
        token_id=digest(f"access-token-of:{session.refresh_hash}")[:32],
    )


def _successor(rt: Parts, session: Session, presented: str) -> tuple[str, str | None] | None:
    """The refresh token the winner sealed on the session (and the access token, when sealed
    by an earlier version, which sealed the pair), or None if it cannot be opened."""
    sealed = session.successor_sealed
    if sealed is None:
        return None
    try:
        refresh_token = rt.box.open(sealed, context=_sealing_context(presented))
    except ValueError:
        try:  # sealed before this version: the pair, bound to the session id
            pair = orjson.loads(rt.box.open(sealed, context=session.id))
        except (ValueError, orjson.JSONDecodeError):
            return None
        return pair["r"], pair["a"]
    return (refresh_token, None) if digest(refresh_token) == session.refresh_hash else None


def _replay(rt: Parts, session: Session, user: User, presented: str, now: datetime) -> LoginResult | None:
    """The pair of the rotation that retired `presented`, or None if it cannot be had."""
    if session.rotated_at is None:
        return None
    successor = _successor(rt, session, presented)
    if successor is None:
        return None
    refresh_token, sealed_access = successor
    elapsed = int((now - session.rotated_at).total_seconds())
    return LoginResult(
        user=user,
        session_id=session.id,
        access_token=sealed_access or _access_token(rt, session, user, session.rotated_at),
        expires_in=max(0, rt.settings.access_ttl_seconds - elapsed),
        refresh_token=refresh_token,
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


async def session_of(rt: Parts, *, token: str) -> Principal | None:
    """The live session a current refresh token names, read without rotating it: a page loaded
    by a navigation from another site must not rotate what the browser holds."""
    presented = digest(token)
    found = await session_repo.find_by_refresh_hash(rt.lane, token_hash=presented)
    if found is None:
        return None
    session, user = found
    if session.refresh_hash != presented or not _live(session, user, utcnow()):
        return None
    return Principal(user=user, session=session, claims={})


async def refresh(rt: Parts, *, token: str) -> LoginResult:
    """Exchange a refresh token for a new pair; raise 401 `invalid_token` otherwise."""
    now = utcnow()
    presented = digest(token)
    grace = timedelta(seconds=rt.settings.refresh_reuse_grace_seconds)
    new_token, new_hash = new_refresh_token()
    # The rotation is one conditional statement, committed on its own: no lock is held
    # across it and the signing.
    rotated = await session_repo.rotate(
        rt.lane,
        presented_hash=presented,
        new_hash=new_hash,
        sealed=rt.box.seal(new_token, context=_sealing_context(presented)) if grace else None,
        now=now,
        renewed=now + timedelta(seconds=rt.settings.refresh_token_ttl_seconds),
    )
    if rotated is not None:
        session, user = rotated
        if grace and _sweep_due(rt):
            async with rt.read() as db:
                await session_repo.wipe_sealed_before(db, before=now - grace)
        return LoginResult(
            user=user,
            session_id=session.id,
            access_token=_access_token(rt, session, user, now),
            expires_in=rt.settings.access_ttl_seconds,
            refresh_token=new_token,
        )
    async with rt.read() as db:
        outcome = await _not_rotated(rt, db, presented=presented, now=now, grace=grace)
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


async def _not_rotated(
    rt: Parts, db: AsyncSession, *, presented: str, now: datetime, grace: timedelta
) -> LoginResult | _Reuse:
    """Why the presented token did not rotate: unknown, its session ended, just rotated by
    another request (the same pair again, within the grace window), or retired (reuse)."""
    found = await session_repo.find_by_refresh_hash(rt.lane, token_hash=presented)
    if found is None:
        retired_from = await session_repo.session_of_retired(db, token_hash=presented)
        if retired_from is None:
            raise invalid_token(INVALID)
        return _Reuse(retired_from)
    session, user = found
    if session.refresh_hash == presented or not _live(session, user, now):
        raise invalid_token(ENDED)  # still current, so the rotation refused its session or user
    if grace and session.rotated_at is not None and now - session.rotated_at <= grace:
        replay = _replay(rt, session, user, presented, now)
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
