"""Prometheus metrics, one registry per app so that several apps (tests) never collide."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
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
            "Time spent hashing or verifying a password",
            ["op"],
            registry=self.registry,
            buckets=(0.001, 0.01, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2),
        )

    def observe_hash(self, op: str, seconds: float) -> None:
        self.hash_seconds.labels(op).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
