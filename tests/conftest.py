"""Shared fixtures: an app per test on each database backend, driven over HTTP with httpx, and
the real services around it that tests in several folders use (the loopback mail and SMS
receivers, the webhook receiver, the OpenID Connect provider, Redis). Helpers live in
tests/support.

Every test that takes `client` (or `make_client`) runs twice: on SQLite and on PostgreSQL.
PostgreSQL cases skip, saying why, when no server answers at AUTHGATE_TEST_POSTGRES_URL;
in CI (`CI=true`) they fail instead, so a missing service cannot pass for a green run.
Each test session gets its own PostgreSQL database, so parallel runs never collide.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from sqlalchemy.ext.asyncio import AsyncEngine

from authgate.app import create_app
from authgate.settings import Settings
from authgate.storage.db import make_engine
from authgate.storage.migrate import upgrade
from tests.support.app import CLIENT_IP, TEST_SECRET, ClientFactory
from tests.support.databases import REDIS_URL, PrivateRedis, fresh_pg_database, run_blocking, truncate_pg
from tests.support.delivery import MessagingClientFactory, delivery_settings
from tests.support.mail import Mailbox
from tests.support.oidc_provider import TestProvider
from tests.support.paths import ROOT
from tests.support.skip import skip_or_fail
from tests.support.sms import SmsReceiver
from tests.support.social import SocialClientFactory, social_client_factory
from tests.support.webhooks import FAST_WEBHOOKS, HookClientFactory, WebhookReceiver

# The order the workers take tests in.

REAL_PROCESS_FOLDERS = ("e2e", "browser", "interop")  # every test there starts servers or browsers


def starts_processes(item: pytest.Item) -> bool:
    return item.get_closest_marker("slow") is not None or item.path.relative_to(ROOT).parts[1] in REAL_PROCESS_FOLDERS


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that start real processes first (in their own order): each takes seconds, so the
    workers start them early and fill the rest of the run with the short ones, instead of
    ending on a long one. (`make test` spreads them with `--dist worksteal`.)"""
    items.sort(key=lambda item: not starts_processes(item))


# The app under test, on each backend.


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, migrated once; dropped at the end."""
    with fresh_pg_database("test") as url:

        async def migrate() -> None:
            engine = make_engine(url)
            await upgrade(engine)
            await engine.dispose()

        run_blocking(migrate)
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated once per test process; each test gets a copy of the file (a
    fifth of a second of migrations saved per test, on about half the suite)."""
    path = tmp_path_factory.mktemp("template") / "authgate.db"

    async def migrate() -> None:
        engine = make_engine(f"sqlite+aiosqlite:///{path}")
        await upgrade(engine)
        await engine.dispose()  # the last connection's close folds the WAL into the file

    run_blocking(migrate)
    return path


@pytest.fixture
async def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Any) -> str:
    if backend == "postgres":
        url: str = request.getfixturevalue("pg_database")
        await truncate_pg(url)
        return url
    template: Path = request.getfixturevalue("sqlite_template")
    shutil.copyfile(template, tmp_path / "authgate.db")
    return f"sqlite+aiosqlite:///{tmp_path}/authgate.db"


@pytest.fixture
def make_settings(database_url: str) -> Callable[..., Settings]:
    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "jwt_secret": TEST_SECRET,
            "database_url": database_url,
            "bcrypt_rounds": 4,
            "cookie_secure": False,
            "public_url": "http://testserver",
            "rate_limits": "off",  # the abuse-protection tests turn them on
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    return build


@pytest.fixture
def make_client(make_settings: Callable[..., Settings]) -> ClientFactory:
    """`async with make_client(**setting_overrides) as client:` an app with its lifespan run."""

    @asynccontextmanager
    async def factory(**overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(make_settings(**overrides))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, client=(CLIENT_IP, 5000))
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                client.app = app  # type: ignore[attr-defined]
                yield client

    return factory


@pytest.fixture
async def client(make_client: ClientFactory) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client() as c:
        yield c


@pytest.fixture
def server_database(backend: str) -> Iterator[dict[str, str]]:
    """The environment that gives a real `authgate serve` (tests/support/server.py) a fresh
    database of the test's backend: none on SQLite (the server's work directory holds one), a
    new PostgreSQL database, migrated by the server itself at start and dropped after the test."""
    if backend == "sqlite":
        yield {}
        return
    with fresh_pg_database("server") as url:
        yield {"AUTHGATE_DATABASE_URL": url}


@pytest.fixture
async def migration_engine(backend: str, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """An engine on an empty database of its own: migrations here run from nothing, and a
    PostgreSQL database cannot be downgraded, so it is created for the test and dropped after."""
    if backend == "sqlite":
        sqlite_engine = make_engine(f"sqlite+aiosqlite:///{tmp_path}/migrate.db")
        yield sqlite_engine
        await sqlite_engine.dispose()
        return
    with fresh_pg_database("migrate") as url:
        pg_engine = make_engine(url)
        try:
            yield pg_engine
        finally:
            await pg_engine.dispose()


# What authgate sends: a real SMTP sink and SMS receiver (support/mail.py, support/sms.py).


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    box.start()
    yield box
    box.stop()


@pytest.fixture
def sms() -> Iterator[SmsReceiver]:
    receiver = SmsReceiver()
    receiver.start()
    yield receiver
    receiver.stop()


@pytest.fixture
def messaging_client(make_client: ClientFactory, mailbox: Mailbox, sms: SmsReceiver) -> MessagingClientFactory:
    """`async with messaging_client(**overrides) as client:` an app that mails to `mailbox`
    and texts to `sms`."""

    return partial(make_client, **delivery_settings(mailbox, sms))  # keywords given at the call win


@pytest.fixture
async def mclient(messaging_client: MessagingClientFactory) -> AsyncIterator[httpx.AsyncClient]:
    async with messaging_client() as client:
        yield client


# Webhooks: a real receiver on loopback (support/webhooks.py) and apps that may deliver to it.


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    hook = WebhookReceiver()
    hook.start()
    yield hook
    hook.stop()


@pytest.fixture
def hook_client(make_client: ClientFactory) -> HookClientFactory:
    """`async with hook_client(**overrides) as client:` an app that may deliver to loopback."""

    return partial(make_client, **FAST_WEBHOOKS)  # keywords given at the call win


@pytest.fixture
async def hclient(hook_client: HookClientFactory) -> AsyncIterator[httpx.AsyncClient]:
    async with hook_client() as client:
        yield client


# Social sign-in: a real OpenID Connect Provider on loopback (support/oidc_provider.py).


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


# Redis: the shared server at AUTHGATE_TEST_REDIS_URL, each test under a key prefix of its own,
# and a redis-server of a test's own to kill. Without one the Redis cases skip (fail with CI=true).


@pytest.fixture
async def redis_url() -> str:
    probe = aioredis.Redis.from_url(REDIS_URL, socket_timeout=2)
    try:
        await probe.ping()
    except Exception as exc:
        skip_or_fail(f"Redis not reachable at {REDIS_URL}: {type(exc).__name__}")
    finally:
        await probe.aclose()
    return REDIS_URL


@pytest.fixture
async def redis_prefix(redis_url: str) -> AsyncIterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    prefix = f"authgate-test:{uuid.uuid4().hex[:12]}:"
    yield prefix
    client = aioredis.Redis.from_url(redis_url)
    try:
        keys = [key async for key in client.scan_iter(match=prefix + "*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    binary = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )
    if binary is None:
        skip_or_fail("redis-server is not installed: the Redis-outage cases need one of their own to stop")
    server = PrivateRedis(binary, tmp_path)
    server.start()
    yield server
    server.kill()
