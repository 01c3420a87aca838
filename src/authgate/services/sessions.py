"""Starting a session after a successful sign-in, and finding the caller's live session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from authgate.errors import invalid_token
from authgate.security.tokens import ACCESS
from authgate.services.context import RequestContext
from authgate.services.principals import Principal
from authgate.services.roles import caps_for
from authgate.services.runtime import Runtime
from authgate.storage.models import Session, User, utcnow
from authgate.storage.repositories import sessions as session_repo


@dataclass(frozen=True)
class LoginResult:
    user: User
    session_id: str
    access_token: str
    expires_in: int
    refresh_token: str | None = None


def mint_access_token(rt: Runtime, *, user: User, session_id: str, amr: list[str]) -> str:
    return rt.codec.encode(
        {
            "sub": user.id,
            "sid": session_id,
            "email": user.email,
            "role": user.role,
            "caps": caps_for(user.role),
            "amr": amr,
        },
        purpose=ACCESS,
        ttl_seconds=rt.settings.access_ttl_seconds,
    )


async def start_session(rt: Runtime, *, user: User, amr: list[str], ctx: RequestContext) -> LoginResult:
    """Record a new session for `user` and mint its access token (one short transaction)."""
    now = utcnow()
    row = Session(
        user_id=user.id,
        amr=",".join(amr),
        created_at=now,
        last_used_at=now,
        expires_at=now + timedelta(seconds=rt.settings.refresh_token_ttl_seconds),
        ip_address=ctx.ip_address,
        user_agent=(ctx.user_agent or "")[:512] or None,
    )
    async with rt.db.begin() as db:
        await session_repo.add(db, row=row)
    token = mint_access_token(rt, user=user, session_id=row.id, amr=amr)
    return LoginResult(user=user, session_id=row.id, access_token=token, expires_in=rt.settings.access_ttl_seconds)


async def authenticate(rt: Runtime, token: str) -> Principal:
    """Verify an access token and that its session is still live (cached, see principals)."""
    claims = rt.codec.decode(token, purpose=ACCESS)
    sid = claims.get("sid")
    if not isinstance(sid, str):
        raise invalid_token()

    async def load() -> tuple[Session, User] | None:
        async with rt.read() as db:
            return await session_repo.get_active_with_user(db, session_id=sid, now=utcnow())

    found = await rt.principals.fetch(sid, load)
    if found is None:
        raise invalid_token("The session has ended.")
    session, user = found
    if user.id != claims["sub"] or user.disabled or session.expires_at <= utcnow():
        raise invalid_token("The session has ended.")
    return Principal(user=user, session=session, claims=claims)


async def revoke_user_sessions(rt: Runtime, *, user_id: str, keep: str | None = None) -> list[str]:
    async with rt.db.begin() as db:
        ids = await session_repo.revoke_for_user(db, user_id=user_id, keep=keep)
    rt.principals.drop_sessions(ids)
    return ids
