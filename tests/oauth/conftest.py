"""A real OpenID Connect Provider on loopback for each test that asks for `op`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.oauth.provider import TestProvider


@pytest.fixture
def op() -> Iterator[TestProvider]:
    provider = TestProvider()
    provider.start()
    yield provider
    provider.stop()
