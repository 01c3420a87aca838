"""The long-lived parts one app instance shares: settings, database, hasher, token codec,
caches and metrics. Built once at start (the app's lifespan), closed at stop."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from authgate.observability.metrics import Metrics
from authgate.security.crypto import SecretBox
from authgate.security.passwords import PasswordHasher, PasswordPolicy
from authgate.security.tokens import TokenCodec
from authgate.services.principals import PrincipalCache
from authgate.settings import Settings, cpu_count
from authgate.storage.db import make_engine, make_sessionmaker


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    db: async_sessionmaker[AsyncSession]
    read: async_sessionmaker[AsyncSession]  # read-only work: never queues behind a writer
    hasher: PasswordHasher
    codec: TokenCodec
    policy: PasswordPolicy
    metrics: Metrics
    box: SecretBox
    principals: PrincipalCache = field(default_factory=PrincipalCache)

    @classmethod
    def build(cls, settings: Settings, metrics: Metrics | None = None) -> Runtime:
        metrics = metrics or Metrics()
        engine = make_engine(settings.database_url)
        return cls(
            settings=settings,
            engine=engine,
            db=make_sessionmaker(engine),
            read=make_sessionmaker(engine, readonly=True),
            hasher=PasswordHasher(settings.bcrypt_rounds, cpu_count(), metrics.observe_hash),
            codec=TokenCodec(settings.jwt_secret, settings.issuer, settings.jwt_audience),
            policy=PasswordPolicy(
                min_length=settings.password_min_length,
                require_mixed=settings.password_require_mixed,
                block_common=settings.password_block_common,
            ),
            metrics=metrics,
            box=SecretBox(settings.encryption_key or settings.jwt_secret),
        )

    async def close(self) -> None:
        self.hasher.close()
        await self.engine.dispose()
