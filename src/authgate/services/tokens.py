"""Refresh-token rotation with a reuse grace window and reuse detection, and logout.

Each use of a refresh token rotates it: one conditional UPDATE marks it used and records its
successor, so of N concurrent uses exactly one mints a new token. The winner also keeps the
new pair sealed (AES-GCM via `rt.box`, bound to the session id) on the old row; for
`refresh_reuse_grace_seconds` the losers, or a second browser tab, get that same pair back
instead of being logged out. Presenting a used token after the window (or when its successor
was itself used already) is treated as theft: the whole session is revoked.
"""

from __future__ import annotations

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
from authgate.storage.models import RefreshToken, Session, User, utcnow
from authgate.storage.repositories import sessions as session_repo
from authgate.storage.repositories import tokens as token_repo

ENDED = "The session has ended."
REUSED = "The refresh token was already used; the session has been ended."


@dataclass(frozen=True)
class _Reuse:
    """Reuse was detected and the session revoked (committed); the caller gets a 401."""

    session_id: str


def _seal(rt: Runtime, session_id: str, refresh_token: str, access_token: str) -> str:
    payload = orjson.dumps({"r": refresh_token, "a": access_token}).decode("ascii")
    return rt.box.seal(payload, context=session_id)


def _replay(rt: Runtime, row: RefreshToken, session: Session, user: User, now: datetime) -> LoginResult | None:
    """The pair the winner sealed on `row`, or None if it cannot be opened."""
    if row.successor_sealed is None or row.rotated_at is None:
        return None
    try:
        payload = orjson.loads(rt.box.open(row.successor_sealed, context=session.id))
    except (ValueError, orjson.JSONDecodeError):
        return None
    return LoginResult(
        user=user,
        session_id=session.id,
        access_token=payload["a"],
        expires_in=max(0, rt.settings.access_ttl_seconds - int((now - row.rotated_at).total_seconds())),
        refresh_token=payload["r"],
    )


def _live(session: Session, user: User, now: datetime) -> bool:
    return session.revoked_at is None and session.expires_at > now and not user.disabled


async def refresh(rt: Runtime, *, token: str) -> LoginResult:
    """Exchange a refresh token for a new pair; raise 401 `invalid_token` otherwise."""
    now = utcnow()
    grace = timedelta(seconds=rt.settings.refresh_reuse_grace_seconds)
    outcome: LoginResult | _Reuse
    async with rt.db.begin() as db:
        found = await token_repo.find_with_session(db, token_hash=digest(token))
        if found is None:
            raise invalid_token("The refresh token is not valid.")
        row, session, user = found
        if not _live(session, user, now) or row.expires_at <= now:
            raise invalid_token(ENDED)

        if row.rotated_at is None:
            new_token, new_row = new_refresh_token(rt, session_id=session.id, now=now)
            access = mint_access_token(rt, user=user, session_id=session.id, amr=session.amr.split(","))
            sealed = _seal(rt, session.id, new_token, access)
            if await token_repo.rotate(db, token_id=row.id, now=now, successor_id=new_row.id, successor_sealed=sealed):
                await token_repo.add(db, row=new_row)
                if not await session_repo.touch(db, session_id=session.id, now=now, expires_at=new_row.expires_at):
                    raise invalid_token(ENDED)  # revoked meanwhile: the rollback undoes the rotation
                await token_repo.wipe_sealed_before(db, before=now - grace)
                return LoginResult(
                    user=user,
                    session_id=session.id,
                    access_token=access,
                    expires_in=rt.settings.access_ttl_seconds,
                    refresh_token=new_token,
                )
            # Lost the race: read what the winner committed.
            fresh = await token_repo.get(db, token_id=row.id)
            if fresh is None or fresh.rotated_at is None:
                raise invalid_token(ENDED)
            row = fresh

        outcome = await _after_rotation(rt, db, row=row, session=session, user=user, now=now, grace=grace)
    if isinstance(outcome, _Reuse):
        after_revoke(rt, [outcome.session_id], "refresh_token_reuse")
        raise invalid_token(REUSED)
    return outcome


async def _after_rotation(
    rt: Runtime,
    db: AsyncSession,
    *,
    row: RefreshToken,
    session: Session,
    user: User,
    now: datetime,
    grace: timedelta,
) -> LoginResult | _Reuse:
    """An already-rotated token: within the grace window, and while its successor is still
    the live one, the same pair again; otherwise reuse, and the session is revoked."""
    assert row.rotated_at is not None
    if grace and now - row.rotated_at <= grace and row.successor_id is not None:
        successor = await token_repo.get(db, token_id=row.successor_id)
        if successor is not None and successor.rotated_at is None:
            replay = _replay(rt, row, session, user, now)
            if replay is not None:
                return replay
    await session_repo.revoke(db, session_ids=[session.id])
    await token_repo.wipe_sealed_for_sessions(db, session_ids=[session.id])
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
        async with rt.read() as db:
            sid = await token_repo.session_id_for(db, token_hash=digest(refresh_token))
        if sid is not None and sid not in session_ids:
            session_ids.append(sid)
    if not session_ids:
        return []
    return await revoke_sessions(rt, session_ids=session_ids, reason="logout")
