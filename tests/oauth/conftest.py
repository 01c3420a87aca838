"""A real OpenID Connect Provider on loopback for each test that asks for `op`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import ClientFactory
from tests.messaging.conftest import mailbox
from tests.oauth.provider import TestProvider
from tests.oauth.support import SocialClientFactory, social_client_factory


@pytest.fixture
def op() -> Iterator[TestProvider]:
    provider = TestProvider()
    provider.start()
    yield provider
    provider.stop()


@pytest.fixture
def social(make_client: ClientFactory, op: TestProvider) -> SocialClientFactory:
    """`async with social(providers=None, **settings) as client:` authgate with provider
    `acme` (OpenID Connect, at `op`) unless `providers` says otherwise."""
    return social_client_factory(make_client, op)


__all__ = ["mailbox", "op", "social"]  # mailbox: the loopback SMTP server, for reset links
