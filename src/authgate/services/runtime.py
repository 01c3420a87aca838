"""The long-lived parts one app instance shares: settings, database, hasher, token codec,
caches, metrics and the message courier. Built once at start (the app's lifespan), closed at stop."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from authgate.delivery.outbox import Courier, channels_from_settings
from authgate.observability.metrics import Metrics
from authgate.security.codes import CodeHasher
from authgate.security.crypto import SecretBox
from authgate.security.passwords import PasswordHasher, PasswordPolicy
from authgate.security.tokens import TokenCodec
from authgate.services.principals import PrincipalCache, VerifiedTokens
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
    courier: Courier
    codes: CodeHasher
    principals: PrincipalCache = field(default_factory=PrincipalCache)
    verified_tokens: VerifiedTokens = field(default_factory=VerifiedTokens)

    @classmethod
    def build(cls, settings: Settings, metrics: Metrics | None = None) -> Runtime:
        metrics = metrics or Metrics()
        engine = make_engine(settings.database_url)
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
            read=make_sessionmaker(engine, readonly=True),
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
