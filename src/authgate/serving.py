"""`authgate serve --workers N`: N worker processes, each listening on the port itself.

uvicorn's own supervisor hands one listening socket to every worker, and whichever worker
wakes first accepts every connection that is waiting (asyncio accepts up to the backlog in one
go). Keep-alive connections opened in a burst — a proxy's upstream pool, a load generator —
then land on one worker while the others idle: 32 connections of 32 on one worker was seen, and
the throughput of one worker with it. Here each worker opens its own socket on the same
address with SO_REUSEPORT, and the kernel spreads new connections across the workers by
their address hash.

The parent only supervises. It first checks that nothing listens on the address (a bind
without SO_REUSEPORT fails while any socket holds it, so a second server never silently shares
the port with the first), starts the workers, starts a new one when one dies, and on SIGTERM or
SIGINT passes SIGTERM on and waits for the workers to finish their requests.

Where processes can fork, the parent imports the application's code once (no app, no thread,
no connection yet), freezes those objects out of the garbage collector's reach, and forks the
workers from it: the pages of code and module state stay shared between workers until one
writes to them, instead of every worker importing its own copy.
"""

from __future__ import annotations

import gc
import multiprocessing
import signal
import socket
import sys
import time
from dataclasses import dataclass
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Any

BACKLOG = 2048  # uvicorn's default
STARTUP_FAILURE = 3  # a worker's exit code when its server could not start (as uvicorn's)
RESTART_PAUSE_SECONDS = 1.0  # between restarts, so a worker that keeps crashing cannot spin
STOP_GRACE_SECONDS = 10.0  # beyond the workers' own shutdown timeout, before they are killed


def spreads_connections() -> bool:
    """SO_REUSEPORT exists (Linux, the BSDs, macOS); elsewhere uvicorn's shared socket is used."""
    return hasattr(socket, "SO_REUSEPORT")


@dataclass(frozen=True)
class WorkerOptions:
    host: str
    port: int
    uvicorn: dict[str, Any]  # keyword arguments of uvicorn.Config


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def check_free(host: str, port: int) -> None:
    """Raise OSError (address in use) if any socket listens on host:port."""
    with socket.socket(_family(host), socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a TIME_WAIT leftover is fine
        probe.bind((host, port))


def listening_socket(host: str, port: int) -> socket.socket:
    """This worker's own listening socket on the shared address."""
    sock = socket.socket(_family(host), socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(BACKLOG)
    return sock


def _exit_when_stopped(_signum: int, _frame: FrameType | None) -> None:
    """uvicorn raises the signal it handled again once it has shut down gracefully; by then
    the stop asked for is done, so the worker exits 0 rather than "killed"."""
    raise SystemExit(0)


def freeze_start_up_heap() -> None:
    """Move every object alive once the server has started (modules, the app, its runtime:
    some 170,000 of them, kept for the life of the process) out of the garbage collector's
    reach. A full collection walks every tracked object; it starts each time the objects
    promoted to the oldest generation since the last one reach a quarter of those already
    there, and requests spread over many sessions promote some: each principal cached for its
    second outlives two young collections. Over the start-up heap a full collection took
    tens of milliseconds, every request waiting (bench/RESULTS.md, /profile over 1,000
    sessions); frozen, it walks only what requests made since."""
    gc.collect()
    gc.freeze()


def serve(config: Any, sockets: list[socket.socket] | None = None) -> bool:
    """Run one uvicorn server (`config`: a uvicorn.Config) until it is stopped, freezing the
    start-up heap once it has started (lifespan done, listening); True if it started."""
    import uvicorn

    class Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if self.started:
                freeze_start_up_heap()

    server = Server(config)
    server.run(sockets=sockets)
    return server.started


def run_worker(options: WorkerOptions) -> None:
    """A worker process: its own socket, one uvicorn server on it."""
    import uvicorn

    signal.signal(signal.SIGTERM, _exit_when_stopped)
    sock = listening_socket(options.host, options.port)
    if not serve(uvicorn.Config(**options.uvicorn), sockets=[sock]):
        raise SystemExit(STARTUP_FAILURE)


def _can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def _preload() -> None:
    """Import the application's modules in the parent, before any worker is forked, and move
    every object made so far out of the collector's reach, so that a collection in a worker
    does not write to (and so copy) the pages it shares with the others."""
    import uvicorn  # noqa: F401

    import authgate.app  # noqa: F401

    gc.collect()
    gc.freeze()


class Supervisor:
    """Keeps `count` workers running until SIGTERM or SIGINT, then stops them."""

    def __init__(self, options: WorkerOptions, count: int, stop_timeout: float) -> None:
        self.options = options
        self.count = count
        self.stop_timeout = stop_timeout + STOP_GRACE_SECONDS
        self.stopping = False
        self._context = multiprocessing.get_context("fork") if _can_fork() else multiprocessing.get_context("spawn")
        self._workers: dict[BaseProcess, float] = {}  # worker -> when it started

    def _start_worker(self) -> None:
        worker = self._context.Process(target=run_worker, args=(self.options,), name="authgate-worker")
        worker.start()
        self._workers[worker] = time.monotonic()

    def _request_stop(self, _signum: int, _frame: FrameType | None) -> None:
        self.stopping = True

    def run(self) -> int:
        """0 after a requested stop; 1 if a worker could not start."""
        previous = {signum: signal.signal(signum, self._request_stop) for signum in (signal.SIGTERM, signal.SIGINT)}
        if self._context.get_start_method() == "fork":
            _preload()
        try:
            where = f"{self.options.host}:{self.options.port}"
            print(f"authgate: {self.count} workers listening on {where}", file=sys.stderr, flush=True)
            for _ in range(self.count):
                self._start_worker()
            status = self._supervise()
            self._stop_all()
            return status
        finally:
            for restored, handler in previous.items():
                signal.signal(restored, handler)

    def _supervise(self) -> int:
        while not self.stopping:
            wait([worker.sentinel for worker in self._workers], timeout=0.5)
            for worker, started in list(self._workers.items()):
                if worker.is_alive() or self.stopping:
                    continue
                del self._workers[worker]
                lived = time.monotonic() - started
                print(
                    f"authgate: worker {worker.pid} exited with code {worker.exitcode} after {lived:.1f} s",
                    file=sys.stderr,
                    flush=True,
                )
                if worker.exitcode == STARTUP_FAILURE:
                    print("authgate: a worker could not start; stopping", file=sys.stderr, flush=True)
                    return 1
                time.sleep(max(0.0, RESTART_PAUSE_SECONDS - lived))
                self._start_worker()
        return 0

    def _stop_all(self) -> None:
        for worker in self._workers:
            if worker.is_alive():
                worker.terminate()  # SIGTERM: uvicorn finishes the requests in flight
        deadline = time.monotonic() + self.stop_timeout
        for worker in self._workers:
            worker.join(max(0.0, deadline - time.monotonic()))
            if worker.is_alive():
                worker.kill()
                worker.join()
