"""What one request costs, counted so that no load on the machine can move it: the Python
function calls the app makes while it answers, and the statements the database runs for it.

The request is handed to the ASGI app directly (no client, no network), and only the request's
own steps are counted: the coroutine that answers it is driven one step at a time, with the
profiler and the statement counter on during each step and off in between, so that the
runtime's background work (the outbox courier, periodic jobs) running between two steps is not
counted. Work in other threads is not counted either: bcrypt runs in the hashing pool, SQLite's
driver in its own thread; what the request pays to hand work to them is.

Statements are counted where the driver meets the database, so the ORM and direct driver calls
count alike: on SQLite, SQLite's own trace callback, for the statements the request's steps
handed to the driver's thread (BEGIN and COMMIT included) or ran on the hot lane's connection
(storage/driver_lane.py); on PostgreSQL, every round trip
asyncpg's protocol makes for them (prepare, execute, a simple query such as BEGIN).
"""

from __future__ import annotations

import cProfile
import threading
import types
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Generator, MutableMapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from types import CodeType
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util.concurrency import await_

from authgate.storage.driver_lane import HotLane

Message = MutableMapping[str, Any]
ASGIApp = Callable[
    [MutableMapping[str, Any], Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]
]
ROUND_TRIPS = frozenset({"prepare", "bind_execute", "bind_execute_many", "query", "bind", "execute", "close_statement"})
ROUND_TRIP_PREFIXES = tuple(f"{name}: " for name in ROUND_TRIPS)


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""


@dataclass(frozen=True)
class Answer:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


@dataclass(frozen=True)
class Cost:
    calls: int
    statements: int
    ran: tuple[str, ...] = ()  # the statements, in order (of a request with the fewest)


class Window:
    """Open while one of the measured request's steps runs."""

    open = False


class StatementCounter:
    """Counts the statements the measured request's steps make any pooled connection of an
    engine run, and the hot lane's, from the moment `install` returns."""

    def __init__(self) -> None:
        self.seen: list[str] = []  # what ran, in order (SQLite: the SQL; PostgreSQL: the call)
        self._driver_thread = threading.local()  # SQLite: is the driver's thread doing our work
        self._request_starts = 0  # where the measured request's statements begin in `seen`

    @property
    def count(self) -> int:
        return len(self.seen)

    def next_request(self) -> int:
        """Where the next request's statements will begin in `seen`."""
        self._request_starts = len(self.seen)
        return self._request_starts

    def _seen(self, what: str) -> None:
        # SQLite reports each statement a trigger runs with the text of the statement that
        # fired it: counted once. Only within one request: the same lookup made by two
        # requests in a row (one client's, say) is two statements.
        repeated = len(self.seen) > self._request_starts and self.seen[-1] == what
        if not (repeated and not what.startswith(ROUND_TRIP_PREFIXES)):
            self.seen.append(what)

    def _on_loop_traced(self, sql: str) -> None:
        if Window.open:
            self._seen(sql)

    def _traced(self, sql: str) -> None:
        if getattr(self._driver_thread, "ours", False):
            self._seen(sql)

    def install(self, engine: AsyncEngine, lane: HotLane) -> None:
        sqlite = engine.dialect.name == "sqlite"
        if lane.sqlite_path is not None:  # the lane's own connection, on the loop's thread
            lane.loop_connection().set_trace_callback(self._on_loop_traced)
        counted: weakref.WeakSet[Any] = weakref.WeakSet()

        def on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
            driver = dbapi_connection.driver_connection
            if driver in counted:
                return
            counted.add(driver)
            if sqlite:
                # aiosqlite's sqlite3 connection belongs to the driver's thread: set it there.
                await_(driver._execute(driver._conn.set_trace_callback, self._traced))
                driver._execute = self._marking(driver._execute)
            else:
                driver._protocol = _CountingProtocol(driver._protocol, self)

        # On checkout rather than at connect: the pool keeps the connections it has (emptying
        # it would cut those the runtime's background jobs hold at that moment).
        event.listen(engine.sync_engine, "checkout", on_checkout)

    def _marking(self, execute: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        """aiosqlite's hand-off to its thread, marking the work handed off in a measured step."""
        local = self._driver_thread

        async def handed_off(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
            if not Window.open:
                return await execute(fn, *args, **kwargs)

            def ours() -> Any:
                local.ours = True
                try:
                    return fn(*args, **kwargs)
                finally:
                    local.ours = False

            return await execute(ours)

        return handed_off


class _CountingProtocol:
    """asyncpg's protocol with every method that goes to the server and back counted, when
    called in a measured step."""

    def __init__(self, protocol: Any, counter: StatementCounter) -> None:
        self._protocol = protocol
        self._counter = counter

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._protocol, name)
        if name not in ROUND_TRIPS:
            return found

        def counted(*args: Any, **kwargs: Any) -> Any:
            if Window.open:
                first = kwargs.get("state", args[0] if args else None)
                sql = first if isinstance(first, str) else getattr(first, "query", "")
                self._counter._seen(f"{name}: {sql}")
            return found(*args, **kwargs)

        return counted


def python_calls(profile: cProfile.Profile) -> int:
    """Calls of Python functions (not of built-ins) that `profile` saw."""
    return sum(entry.callcount for entry in profile.getstats() if isinstance(entry.code, CodeType))


@types.coroutine
def stepped(coroutine: Coroutine[Any, Any, Any], profile: cProfile.Profile) -> Generator[Any, Any, Any]:
    """Await `coroutine` with `profile` and the window on during its steps only."""
    value: Any = None
    error: BaseException | None = None
    while True:
        Window.open = True
        profile.enable()
        try:
            yielded = coroutine.send(value) if error is None else coroutine.throw(error)
        except StopIteration as done:
            return done.value
        finally:
            profile.disable()
            Window.open = False
        try:
            value, error = (yield yielded), None
        except BaseException as exc:  # a cancellation, say: handed to the coroutine
            value, error = None, exc


async def answer(app: ASGIApp, request: Request) -> Answer:
    """The app's answer to `request`, straight through ASGI."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": request.method,
        "scheme": "http",
        "path": request.path,
        "raw_path": request.path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")]
        + [(name.lower().encode(), value.encode()) for name, value in request.headers]
        + ([(b"content-length", str(len(request.body)).encode())] if request.body else []),
        "client": ("203.0.113.7", 5000),
        "server": ("testserver", 80),
    }
    sent: list[Message] = []
    given = False

    async def receive() -> Message:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": request.body, "more_body": False}
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return Answer(start["status"], list(start.get("headers", [])), body)


async def cost_of(
    app: ASGIApp,
    counter: StatementCounter,
    make_request: Callable[[], Awaitable[Request]],
    *,
    status: int = 200,
    rounds: int = 7,
    warm_up: int = 3,
) -> Cost:
    """The least calls and statements of `rounds` requests (after `warm_up` unmeasured ones);
    `make_request` prepares each one (a fresh refresh token, say) outside the measurement."""
    least: Cost | None = None
    for number in range(warm_up + rounds):
        request = await make_request()
        profile = cProfile.Profile()
        before = counter.next_request()
        got = await stepped(answer(app, request), profile)
        calls = python_calls(profile)
        assert got.status == status, (request.method, request.path, got.status, got.body[:300])
        if number < warm_up:
            continue
        ran = tuple(counter.seen[before:])
        if least is None:
            least = Cost(calls, len(ran), ran)
        else:
            fewer = len(ran) < least.statements
            least = Cost(
                min(least.calls, calls),
                len(ran) if fewer else least.statements,
                ran if fewer else least.ran,
            )
    assert least is not None
    return least


@asynccontextmanager
async def counting(engine: AsyncEngine, lane: HotLane) -> AsyncIterator[StatementCounter]:
    counter = StatementCounter()
    counter.install(engine, lane)
    yield counter
