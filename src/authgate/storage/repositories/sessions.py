"""Reading and writing sign-in sessions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import BindParameter, ColumnElement, ScalarSelect, and_, bindparam, case, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, configure_mappers, make_transient_to_detached

from authgate.storage import driver_lane
from authgate.storage.db import write_turn
from authgate.storage.models import RetiredRefreshToken, Session, User, utcnow

SESSION_COLUMNS = tuple(Session.__table__.columns)
USER_COLUMNS = tuple(User.__table__.columns)
SESSION_KEYS = tuple(column.key for column in SESSION_COLUMNS)
USER_KEYS = tuple(column.key for column in USER_COLUMNS)
M = TypeVar("M", Session, User)

# The statements of a refresh, for the hot lane (storage/driver_lane.py).
_FIND_BY_REFRESH = driver_lane.Statement(
    select(*SESSION_COLUMNS, *USER_COLUMNS)
    .join_from(Session, User, User.id == Session.user_id)
    .where(or_(Session.refresh_hash == bindparam("h"), Session.previous_refresh_hash == bindparam("h"))),
    returns=SESSION_COLUMNS + USER_COLUMNS,
)
# Typed as the column it is written to: a bare parameter would reach SQLite as Python's own
# text for a datetime, not as the column type writes it.
_RENEWED: BindParameter[datetime] = bindparam("renewed", type_=Session.__table__.c.expires_at.type)
_ROTATION = (
    update(Session)
    .where(
        Session.refresh_hash == bindparam("presented"),
        Session.revoked_at.is_(None),
        Session.expires_at > bindparam("now"),
    )
    .values(
        refresh_hash=bindparam("new_hash"),
        previous_refresh_hash=Session.refresh_hash,
        rotated_at=bindparam("now"),
        successor_sealed=bindparam("sealed"),
        last_used_at=bindparam("now"),
        # Renewed, but never past the session's absolute end.
        expires_at=case(
            (and_(Session.ends_at.is_not(None), Session.ends_at < _RENEWED), Session.ends_at), else_=_RENEWED
        ),
    )
)


def _of_user(column: ColumnElement[Any] | InstrumentedAttribute[Any]) -> ScalarSelect[Any]:
    return select(column).where(User.id == Session.user_id).scalar_subquery()


# One statement rotates and returns the session and its user. PostgreSQL joins the user in
# (`UPDATE ... FROM users ... RETURNING`); SQLite's RETURNING may not name a joined table,
# so there each of the user's columns is a subquery on its primary key.
_ROTATE = {
    "postgresql": driver_lane.Statement(
        _ROTATION.where(User.id == Session.user_id, User.disabled.is_(False)).returning(
            *SESSION_COLUMNS, *USER_COLUMNS
        ),
        returns=SESSION_COLUMNS + USER_COLUMNS,
    ),
    "sqlite": driver_lane.Statement(
        _ROTATION.where(_of_user(User.disabled).is_(False)).returning(
            *SESSION_COLUMNS, *(_of_user(column) for column in USER_COLUMNS)
        ),
        returns=SESSION_COLUMNS + USER_COLUMNS,
    ),
}


# ... and of every authenticated request whose session is not cached.
_ACTIVE_WITH_USER = driver_lane.Statement(
    select(*SESSION_COLUMNS, *USER_COLUMNS)
    .join_from(Session, User, User.id == Session.user_id)
    .where(Session.id == bindparam("sid"), Session.revoked_at.is_(None), Session.expires_at > bindparam("now")),
    returns=SESSION_COLUMNS + USER_COLUMNS,
)


def _session_and_user(values: Sequence[Any]) -> tuple[Session, User]:
    """A session and its user from one row of session columns then user columns, as the ORM
    would have left them once its session closed: detached, with their identity (not new
    objects a flush would insert)."""
    cut = len(SESSION_COLUMNS)
    return _detached(Session, SESSION_KEYS, values[:cut]), _detached(User, USER_KEYS, values[cut:])


def _detached(model: type[M], keys: tuple[str, ...], values: Sequence[Any]) -> M:
    """`model` built as the ORM builds a row it loads (its values set directly, not one by one
    through the attribute events a constructor fires: half the cost of a refresh's objects)."""
    mapper = model.__mapper__
    if not mapper.configured:
        configure_mappers()  # as a constructor would (once)
    instance: M = mapper.class_manager.new_instance()
    instance.__dict__.update(zip(keys, values, strict=True))
    make_transient_to_detached(instance)
    return instance


async def add(session: AsyncSession, *, row: Session) -> Session:
    session.add(row)
    await session.flush()
    return row


async def get_active_with_user(
    lane: driver_lane.HotLane, *, session_id: str, now: datetime
) -> tuple[Session, User] | None:
    """The live session and its user, or None if revoked, expired or unknown. Every
    authenticated request whose session is not cached runs this, so it takes the hot lane
    (storage/driver_lane.py); detached objects, for reading."""
    found = await lane.rows(_ACTIVE_WITH_USER, {"sid": session_id, "now": now})
    return _session_and_user(found[0]) if found else None


async def revoke_for_user(session: AsyncSession, *, user_id: str, keep: str | None = None) -> list[str]:
    """Revoke the user's live sessions, except `keep`; returns the ids revoked."""
    stmt = (
        update(Session)
        .where(Session.user_id == user_id, Session.revoked_at.is_(None))
        .values(revoked_at=utcnow(), successor_sealed=None)
        .returning(Session.id)
        .execution_options(synchronize_session=False)
    )
    if keep is not None:
        stmt = stmt.where(Session.id != keep)
    return list((await session.execute(stmt)).scalars())


async def list_active(session: AsyncSession, *, user_id: str, now: datetime) -> list[Session]:
    """The user's live sessions, most recently used first."""
    result = await session.execute(
        select(Session)
        .where(Session.user_id == user_id, Session.revoked_at.is_(None), Session.expires_at > now)
        .order_by(Session.last_used_at.desc(), Session.id)
    )
    return list(result.scalars())


async def get(session: AsyncSession, *, session_id: str) -> Session | None:
    """A fresh read (never the identity map's copy): after losing a rotation race the
    caller must see what the winner committed."""
    result = await session.execute(
        select(Session).where(Session.id == session_id).execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none()


async def find_by_refresh_hash(lane: driver_lane.HotLane, *, token_hash: str) -> tuple[Session, User] | None:
    """The session whose current or just-rotated refresh token has this digest, and its user
    (detached objects, for reading)."""
    found = await lane.rows(_FIND_BY_REFRESH, {"h": token_hash})
    return _session_and_user(found[0]) if found else None


async def rotate(
    lane: driver_lane.HotLane,
    *,
    presented_hash: str,
    new_hash: str,
    sealed: str | None,
    now: datetime,
    renewed: datetime,
) -> tuple[Session, User] | None:
    """Swap the current refresh token for a new one, in one statement, if the presented one
    is current, its session live and its user not disabled; the session as rotated and its
    user for the one caller that did it, None for any other. Concurrent callers block on
    the row (PostgreSQL) or the write lock (SQLite), then find the digest changed. The
    session's last use is now, and its lifetime slides to `renewed`, never past its end.

    The database records the presented token as retired in the same statement (a trigger of
    migration 0006 on `sessions.refresh_hash`), so it is never lost from the record."""
    statement = _ROTATE["postgresql" if lane.postgres else "sqlite"]
    params = {"presented": presented_hash, "new_hash": new_hash, "sealed": sealed, "now": now, "renewed": renewed}
    rotated = await lane.rows(statement, params)
    return _session_and_user(rotated[0]) if rotated else None


async def session_of_retired(session: AsyncSession, *, token_hash: str) -> str | None:
    """The session that once rotated out this refresh token, if any."""
    result = await session.execute(
        select(RetiredRefreshToken.session_id).where(RetiredRefreshToken.token_hash == token_hash)
    )
    return result.scalar_one_or_none()


async def wipe_sealed_before(session: AsyncSession, *, before: datetime, limit: int = 100) -> None:
    """Forget sealed pairs whose grace window is over. Rows another transaction holds are
    skipped (PostgreSQL `SKIP LOCKED`), so this sweep never waits or deadlocks."""
    stale = (
        select(Session.id)
        .where(Session.successor_sealed.is_not(None), Session.rotated_at < before)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    async with write_turn(session):  # so that the hot lane queues behind it (driver_lane)
        await session.execute(
            update(Session)
            .where(Session.id.in_(stale))
            .values(successor_sealed=None)
            .execution_options(synchronize_session=False)
        )


async def session_id_for_refresh(session: AsyncSession, *, token_hash: str) -> str | None:
    result = await session.execute(
        select(Session.id).where(or_(Session.refresh_hash == token_hash, Session.previous_refresh_hash == token_hash))
    )
    return result.scalar_one_or_none()


async def revoke(session: AsyncSession, *, session_ids: list[str], user_id: str | None = None) -> list[tuple[str, str]]:
    """Revoke these sessions if live (and, with `user_id`, only that user's); returns the
    (session id, user id) of each one revoked. A sealed grace-window pair goes with them."""
    if not session_ids:
        return []
    stmt = (
        update(Session)
        .where(Session.id.in_(session_ids), Session.revoked_at.is_(None))
        .values(revoked_at=utcnow(), successor_sealed=None)
        .returning(Session.id, Session.user_id)
        .execution_options(synchronize_session=False)
    )
    if user_id is not None:
        stmt = stmt.where(Session.user_id == user_id)
    return [(row[0], row[1]) for row in await session.execute(stmt)]


async def record_reauthentication(
    session: AsyncSession, *, session_id: str, at: datetime, method: str, spent: bool
) -> bool:
    """The live session's user proved themselves again at `at` (`method`); `spent` when the
    sensitive change it came with uses it up at once. Its sign-in time never moves."""
    result = await session.execute(
        update(Session)
        .where(Session.id == session_id, Session.revoked_at.is_(None))
        .values(reauthenticated_at=at, reauth_spent_at=at if spent else None, reauth_method=method)
        .returning(Session.id)
        .execution_options(synchronize_session=False)
    )
    return result.scalar_one_or_none() is not None


async def spend_reauthentication(session: AsyncSession, *, session_id: str, seen: datetime, now: datetime) -> bool:
    """Use up the session's re-authentication of `seen`, if no change spent it yet: one
    conditional statement, so of concurrent changes exactly one gets it."""
    result = await session.execute(
        update(Session)
        .where(
            Session.id == session_id,
            Session.revoked_at.is_(None),
            Session.reauthenticated_at == seen,
            Session.reauth_spent_at.is_(None),
        )
        .values(reauth_spent_at=now)
        .returning(Session.id)
        .execution_options(synchronize_session=False)
    )
    return result.scalar_one_or_none() is not None
