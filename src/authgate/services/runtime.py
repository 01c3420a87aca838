"""The long-lived parts one app instance shares: settings, database, hasher, token codec,
caches, metrics and the message courier. Built once at start (the app's lifespan), closed at stop."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass, field

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from authgate.delivery.outbox import Courier, channels_from_settings
from authgate.observability.metrics import Metrics
from authgate.security.codes import CodeHasher
from authgate.security.crypto import SecretBox
from authgate.security.passwords import PasswordHasher, PasswordPolicy
from authgate.security.tokens import TokenCodec
from authgate.services.principals import PrincipalCache, VerifiedTokens
from authgate.settings import Settings, cpu_count
from authgate.storage.db import make_autocommit_engine, make_engine, make_sessionmaker, make_write_turn


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    db: async_sessionmaker[AsyncSession]
    autocommit: async_sessionmaker[AsyncSession]  # each statement its own transaction (storage/db.py)
    hasher: PasswordHasher
    codec: TokenCodec
    policy: PasswordPolicy
    metrics: Metrics
    box: SecretBox
    courier: Courier
    codes: CodeHasher
    principals: PrincipalCache = field(default_factory=PrincipalCache)
    verified_tokens: VerifiedTokens = field(default_factory=VerifiedTokens)
    next_refresh_sweep: float = 0.0  # monotonic time; see services/tokens.py
    write_turn: AbstractAsyncContextManager[object] = field(default_factory=nullcontext)  # storage/db.py
    redis: Redis | None = None  # AUTHGATE_REDIS_URL; shared state across nodes

    @classmethod
    def build(cls, settings: Settings, metrics: Metrics | None = None) -> Runtime:
        metrics = metrics or Metrics()
        engine = make_engine(settings.database_url)
        autocommit_engine = make_autocommit_engine(engine)
        db = make_sessionmaker(engine)
        box = SecretBox(settings.encryption_key or settings.jwt_secret)
        courier = Courier(
            db=db,
            box=box,
            channels=channels_from_settings(settings),
            retry_base_seconds=settings.delivery_retry_base_seconds,
            max_attempts=settings.delivery_max_attempts,
        )
        return cls(
            settings=settings,
            engine=engine,
            db=db,
            autocommit=make_sessionmaker(autocommit_engine),
            write_turn=make_write_turn(settings.database_url),
            redis=Redis.from_url(settings.redis_url, socket_timeout=2) if settings.redis_url else None,
            hasher=PasswordHasher(settings.bcrypt_rounds, cpu_count(), metrics.observe_hash),
            codec=TokenCodec(settings.jwt_secret, settings.issuer, settings.jwt_audience),
            policy=PasswordPolicy(
                min_length=settings.password_min_length,
                require_mixed=settings.password_require_mixed,
                block_common=settings.password_block_common,
            ),
            metrics=metrics,
            box=box,
            courier=courier,
            codes=CodeHasher(settings.encryption_key or settings.jwt_secret),
        )

    def start(self) -> None:
        """Start the background parts (the message courier); needs a running event loop."""
        self.courier.start()

    async def close(self) -> None:
        await self.courier.close()
        self.hasher.close()
        await self.engine.dispose()
        if self.redis is not None:
            await self.redis.aclose()
