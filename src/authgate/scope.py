"""What a use case knows about the request that caused it.

`RequestContext` is passed to the use cases that record it (a session's address and device).
The same facts, and who is acting, are also held for the request's whole life in a context
variable (`entered`, set by the edge, http/middleware.py; `act_as`, set once the caller is
authenticated), so that every audit entry carries them without each use case threading them
through: an entry that forgot its address cannot be written.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    ip_address: str | None = None
    user_agent: str | None = None


@dataclass
class RequestScope:
    context: RequestContext
    actor_id: str | None = None  # the authenticated caller, once known


_current: ContextVar[RequestScope | None] = ContextVar("authgate_request_scope", default=None)


def current() -> RequestScope | None:
    return _current.get()


@contextmanager
def entered(context: RequestContext) -> Iterator[RequestScope]:
    """Hold `context` for the duration of one request (or one command)."""
    scope = RequestScope(context)
    token = _current.set(scope)
    try:
        yield scope
    finally:
        _current.reset(token)


def act_as(actor_id: str) -> None:
    """Record who the authenticated caller is, for the rest of the request."""
    scope = _current.get()
    if scope is not None:
        scope.actor_id = actor_id
