"""Which errors mean "a service we depend on does not answer" (the database, Redis), so that a
request answers 503 and the client retries, instead of 500, which says we have a bug.

Only connection-level failures count: a refused or dropped connection, a timeout, a pool with
no free connection, a server shutting down or out of connections. Anything else the database
says (a constraint violated, a missing table) is still a bug and a 500.
"""

from __future__ import annotations

import errno
import socket
import sys
import time

import sqlalchemy.exc

from authgate.observability.logging import get_logger
from authgate.settings import Settings
from authgate.storage.db import is_sqlite

log = get_logger("authgate.http")  # the name operators already filter on

# The drivers' own classes are looked up only once their library is loaded: an error of a
# library that was never imported cannot happen, and on SQLite without Redis neither asyncpg
# nor redis is imported at all (about 9 MB per worker).


def candidates(settings: Settings) -> tuple[type[Exception], ...]:
    """Classes worth a look: anything that may be, or may wrap, a connection-level failure.
    A driver's own classes only when it is in use (and so loaded anyway)."""
    found: list[type[Exception]] = [OSError, sqlalchemy.exc.SQLAlchemyError]
    if not is_sqlite(settings.database_url):
        import asyncpg

        found += [asyncpg.PostgresError, asyncpg.InterfaceError]
    if settings.redis_url:
        from redis.exceptions import RedisError

        found.append(RedisError)
    return tuple(found)


def _driver_says_away(exc: BaseException) -> str | None:
    if (redis_exceptions := sys.modules.get("redis.exceptions")) is not None and isinstance(
        exc, redis_exceptions.ConnectionError | redis_exceptions.TimeoutError
    ):
        return "redis"
    if (asyncpg := sys.modules.get("asyncpg")) is not None and isinstance(
        exc,
        asyncpg.PostgresConnectionError  # class 08: the connection failed or is gone
        | asyncpg.CannotConnectNowError  # starting up or shutting down
        | asyncpg.AdminShutdownError
        | asyncpg.CrashShutdownError
        | asyncpg.TooManyConnectionsError,
    ):
        return "database"
    return None


_NETWORK_ERRNOS = {
    errno.ECONNREFUSED,
    errno.ECONNRESET,
    errno.ECONNABORTED,
    errno.EPIPE,
    errno.ETIMEDOUT,
    errno.EHOSTUNREACH,
    errno.EHOSTDOWN,
    errno.ENETUNREACH,
    errno.ENETDOWN,
}


def _is_away(exc: BaseException) -> str | None:
    """The part that is away if `exc` itself says so (not looking at its causes)."""
    driver = _driver_says_away(exc)
    if driver is not None:
        return driver
    if isinstance(exc, sqlalchemy.exc.DBAPIError) and exc.connection_invalidated:
        return "database"
    if isinstance(exc, sqlalchemy.exc.TimeoutError):  # no free connection in the pool
        return "database"
    if isinstance(exc, ConnectionError | TimeoutError | socket.gaierror):
        return "network"
    if isinstance(exc, OSError) and exc.errno in _NETWORK_ERRNOS:
        return "network"
    return None


def unavailable_part(exc: BaseException) -> str | None:
    """ "database", "redis" or "network" when `exc` is (or was caused by) a connection-level
    failure; None for anything else. Follows what SQLAlchemy wraps (`orig`) and explicit
    causes, not an exception that merely happened while handling another."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        part = _is_away(current)
        if part is not None:
            return part
        orig = getattr(current, "orig", None)
        current = orig if isinstance(orig, BaseException) else current.__cause__
    return None


def database_error_type(exc: BaseException) -> str | None:
    """`IntegrityError(UniqueViolationError)` for an error the database or its driver raised,
    None for anything else. Such an error's text holds the statement and often the values (a
    unique violation names the key and its value), so it is logged by its classes only."""
    if not isinstance(exc, sqlalchemy.exc.SQLAlchemyError):
        return None
    orig = getattr(exc, "orig", None)
    return type(exc).__name__ + (f"({type(orig).__name__})" if orig is not None else "")


class OutageLog:
    """One warning when requests start being refused for an outage, then at most one every
    `every` seconds with how many were refused since: an outage under load leaves a few lines,
    not one per request. Only the exception's class is logged, never its text (which may hold
    SQL or an address)."""

    def __init__(self, every: float = 10.0) -> None:
        self.every = every
        self._last = -float("inf")
        self._refused = 0

    def refused(self, *, part: str, error_type: str, path: str) -> None:
        self._refused += 1
        now = time.monotonic()
        if now - self._last < self.every:
            return
        log.warning("dependency_unavailable", part=part, error_type=error_type, path=path, refused=self._refused)
        self._last = now
        self._refused = 0
