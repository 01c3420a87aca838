"""Prometheus metrics, one registry per app so that several apps (tests) never collide.

Under `authgate serve --workers N` each worker is its own process with its own counters, and a
scrape reaches one of them. `observability.workers` puts prometheus_client in multiprocess mode
before the workers start: every worker writes its values to files in one private directory,
and `render` adds up the files of all of them.
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from authgate.observability.workers import SHARED_DIRECTORY_VARIABLE

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.shared_directory = os.environ.get(SHARED_DIRECTORY_VARIABLE) or None
        self.requests = Counter(
            "authgate_http_requests_total",
            "HTTP requests by route, method and status",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "authgate_http_request_duration_seconds",
            "HTTP request latency by route",
            ["route", "method"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.logins = Counter("authgate_logins_total", "Login attempts by outcome", ["outcome"], registry=self.registry)
        self.hash_seconds = Histogram(
            "authgate_password_hash_seconds",
            "Time spent hashing or verifying a password, by operation and hash scheme",
            ["op", "scheme"],
            registry=self.registry,
            buckets=(0.001, 0.01, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2),
        )

        self.rehashes = Counter(
            "authgate_password_rehashes_total",
            "Stored password hashes replaced by the configured scheme at a sign-in, by the scheme they had",
            ["from"],
            registry=self.registry,
        )

        self.oauth2_authorizations = Counter(
            "authgate_oauth2_authorize_total",
            "The OpenID provider's authorization requests, by outcome (code, login, consent, or the error sent)",
            ["outcome"],
            registry=self.registry,
        )
        self.oauth2_tokens = Counter(
            "authgate_oauth2_token_total",
            "The OpenID provider's token requests, by grant type and outcome (issued, or the error)",
            ["grant_type", "outcome"],
            registry=self.registry,
        )

    def oauth2_token(self, grant_type: str, outcome: str) -> None:
        self.oauth2_tokens.labels(grant_type, outcome).inc()

    def observe_hash(self, op: str, scheme: str, seconds: float) -> None:
        self.hash_seconds.labels(op, scheme).observe(seconds)

    def render(self) -> bytes:
        """This app's registry, or, shared across workers, the sum over every worker's files."""
        if self.shared_directory is None:
            return generate_latest(self.registry)
        merged = CollectorRegistry()
        MultiProcessCollector(merged, path=self.shared_directory)  # type: ignore[no-untyped-call]
        return generate_latest(merged)

    def worker_stopped(self) -> None:
        """A stopping worker's counts stay in the sum; only its live gauges, if any, go."""
        if self.shared_directory is not None:
            mark_process_dead(os.getpid(), self.shared_directory)  # type: ignore[no-untyped-call]
