"""Sessions: starting one (only the sign-in gate does), finding the caller's live session,
listing and revoking them.

Revocations run in the caller's unit of work; once it commits, the principal cache drops the
sessions, so their access tokens are refused at once on this node (and within the cache's
one-second lifetime on every other node).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from authgate.core.parts import Parts
from authgate.core.principal import Principal
from authgate.errors import invalid_token, not_found
from authgate.observability.logging import get_logger
from authgate.scope import RequestContext
from authgate.security.opaque import digest, random_token
from authgate.security.signed_tokens import ACCESS, key_id
from authgate.storage.models import Session, User, new_id, utcnow
from authgate.storage.repositories import oauth_grants as grant_repo
from authgate.storage.repositories import sessions as session_repo
from authgate.storage.uow import UnitOfWork

log = get_logger("authgate.sessions")
REFRESH_TOKEN_BYTES = 32  # 256 random bits
# Why sessions end that also end every grant the user gave apps (docs/oidc-provider.md).
ENDS_APP_GRANTS = frozenset({"password_changed", "password_reset", "account_claimed", "user_disabled", "user_deleted"})


@dataclass(frozen=True)
class LoginResult:
    user: User
    session_id: str
    access_token: str
    expires_in: int
    refresh_token: str | None = None


def mint_access_token(
    rt: Parts, *, user: User, session_id: str, amr: list[str], issued_at: int | None = None, token_id: str | None = None
) -> str:
    return rt.codec.encode(
        {
            "sub": user.id,
            "sid": session_id,
            "email": user.email,
            "role": user.role,
            "caps": rt.roles.caps(user.role),
            "amr": amr,
        },
        purpose=ACCESS,
        ttl_seconds=rt.settings.access_ttl_seconds,
        issued_at=issued_at,
        token_id=token_id,
    )


def new_refresh_token() -> tuple[str, str]:
    """A fresh opaque refresh token (256 random bits) and the digest that is all we store."""
    token = random_token(REFRESH_TOKEN_BYTES)
    return token, digest(token)


async def start_session(tx: UnitOfWork, rt: Parts, *, user: User, amr: list[str], ctx: RequestContext) -> LoginResult:
    """Record a new session for `user` with its first refresh token, and mint its access
    token. Only the sign-in gate (`signin/gate.py`) calls this."""
    now = utcnow()
    refresh_token, refresh_hash = new_refresh_token()
    ends_at = now + timedelta(seconds=rt.settings.session_max_seconds)
    row = Session(
        id=new_id(),
        user_id=user.id,
        refresh_hash=refresh_hash,
        amr=",".join(amr),
        created_at=now,
        last_used_at=now,
        expires_at=min(now + timedelta(seconds=rt.settings.refresh_token_ttl_seconds), ends_at),
        ends_at=ends_at,
        ip_address=ctx.ip_address,
        user_agent=(ctx.user_agent or "")[:512] or None,
    )
    await session_repo.add(tx.db, row=row)
    token = mint_access_token(rt, user=user, session_id=row.id, amr=amr)
    return LoginResult(
        user=user,
        session_id=row.id,
        access_token=token,
        expires_in=rt.settings.access_ttl_seconds,
        refresh_token=refresh_token,
    )


async def authenticate(rt: Parts, token: str, *, fresh: bool = False) -> Principal:
    """Verify an access token and that its session is still live: through the caches (see
    principals), or with `fresh` straight from the database (introspection, which services
    call precisely to see a revocation at once)."""
    claims = None if fresh else rt.verified_tokens.get(token)
    if claims is None:
        claims = await rt.codec.decode(token, purpose=ACCESS)
        rt.verified_tokens.put(token, key_id(token), claims)
    sid = claims.get("sid")
    if not isinstance(sid, str):
        raise invalid_token()

    async def load() -> tuple[Session, User] | None:
        return await session_repo.get_active_with_user(rt.lane, session_id=sid, now=utcnow())

    found = await load() if fresh else await rt.principals.fetch(sid, load)
    if found is None:
        raise invalid_token("The session has ended.")
    session, user = found
    if user.id != claims["sub"] or user.disabled or session.expires_at <= utcnow():
        raise invalid_token("The session has ended.")
    return Principal(user=user, session=session, claims=claims)


def _revoked(tx: UnitOfWork, rt: Parts, ids: list[str], *, user_id: str, reason: str) -> list[str]:
    """Once the revoking transaction commits: drop the cached principals, and log it."""

    def drop() -> None:
        rt.principals.drop_sessions(ids)
        for sid in ids:
            log.info("session_revoked", session_id=sid, reason=reason)

    if ids:
        tx.on_commit(drop)
        tx.audit("session.revoked", user_id=user_id, sessions=ids, reason=reason)
        tx.emit("session.revoked", userId=user_id, sessionIds=ids, reason=reason)
    return ids


async def revoke_user_sessions(
    tx: UnitOfWork, rt: Parts, *, user_id: str, keep: str | None = None, reason: str = "user_sessions"
) -> list[str]:
    """Revoke all of the user's live sessions except `keep` (password change, sign out others).
    For the reasons that end an account's access everywhere, the apps' grants end too, offline
    ones included (an online grant ends with its session anyway)."""
    ids = await session_repo.revoke_for_user(tx.db, user_id=user_id, keep=keep)
    if reason in ENDS_APP_GRANTS:
        await grant_repo.end(tx.db, now=utcnow(), reason=reason, user_id=user_id)
    return _revoked(tx, rt, ids, user_id=user_id, reason=reason)


async def revoke_sessions(
    tx: UnitOfWork, rt: Parts, *, session_ids: list[str], user_id: str | None = None, reason: str = "logout"
) -> list[str]:
    """Revoke these sessions (only `user_id`'s, when given); returns those that were live.
    Each owner gets their own audit entry."""
    revoked = await session_repo.revoke(tx.db, session_ids=session_ids, user_id=user_id)
    for owner in sorted({owner for _, owner in revoked}):
        _revoked(tx, rt, [sid for sid, of in revoked if of == owner], user_id=owner, reason=reason)
    return [sid for sid, _ in revoked]


async def revoke_own_session(rt: Parts, *, user_id: str, session_id: str) -> None:
    """`DELETE /sessions/{id}`: someone else's, unknown or already ended session is a 404."""
    async with rt.uow() as tx:
        ids = await revoke_sessions(tx, rt, session_ids=[session_id], user_id=user_id, reason="revoked_by_user")
    if not ids:
        raise not_found("No such session.")


async def revoke_other_sessions(rt: Parts, *, user_id: str, keep: str) -> list[str]:
    """`DELETE /sessions`: sign out everywhere else."""
    async with rt.uow() as tx:
        return await revoke_user_sessions(tx, rt, user_id=user_id, keep=keep, reason="sign_out_others")


async def list_sessions(rt: Parts, *, user_id: str) -> list[Session]:
    async with rt.read() as db:
        return await session_repo.list_active(db, user_id=user_id, now=utcnow())
