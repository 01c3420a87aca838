"""Fixtures for the abuse-protection tests: where the counts under test live.

Each test gets its own Redis key prefix (the root conftest's `redis_prefix`), so runs sharing
one Redis never see each other's counts. Without Redis at AUTHGATE_TEST_REDIS_URL the Redis
cases skip (fail with CI=true)."""

from __future__ import annotations

import pytest


@pytest.fixture(params=["memory", "redis"])
def counts_in(request: pytest.FixtureRequest) -> tuple[str, str] | None:
    """Where the counts under test live: None for this process, or Redis's URL and this
    test's key prefix (the contract suites run against both)."""
    if request.param == "memory":
        return None
    return request.getfixturevalue("redis_url"), request.getfixturevalue("redis_prefix")
