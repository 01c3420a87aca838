"""Fixtures for the client tests: the stand-in for authgate's JWKS and introspection
endpoints (support/client_stub.py), and the backend of the real app some tests take tokens from."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.client_stub import AuthgateStub


@pytest.fixture
def backend() -> str:
    """The authgate app the end-to-end tests take tokens from runs on SQLite only: the
    database behind it is not what these tests are about."""
    return "sqlite"


@pytest.fixture
def authgate_stub() -> Iterator[AuthgateStub]:
    stub = AuthgateStub()
    stub.start()
    yield stub
    stub.stop()


@pytest.fixture
def elsewhere() -> Iterator[AuthgateStub]:
    """A second server, where a token's headers might try to send the verifier."""
    stub = AuthgateStub()
    stub.start()
    yield stub
    stub.stop()
