"""The interoperability tests' provider: one real `authgate serve` per backend with the OpenID
provider on (support/provider_server.py), shared by every test of the session on that backend;
each test registers apps and accounts of its own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.provider_server import RunningProvider, running_provider


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def provider(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningProvider]:
    backend = str(request.param)
    with running_provider(tmp_path_factory.mktemp(f"provider-{backend}"), backend) as running:
        yield running
