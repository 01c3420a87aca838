"""The long-lived parts one app instance shares: settings, database, hasher, token codec,
caches, metrics, the credential methods, the sign-in providers and the message courier.
Built once at start (the app's lifespan), closed at stop.

Use cases reach the database two ways only: `rt.uow()`, one transaction for the use case
(storage/uow.py), and `rt.read()`, for lookups. Which statements take the autocommit path, the
SQLite driver lane or the write turn is the repositories' business."""

from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager, suppress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from authgate.abuse.limiter import RateLimiter
from authgate.abuse.lockout import Lockout, LockoutState, MemoryLockoutState, RedisLockoutState
from authgate.captcha import CaptchaVerifier, asks_over_http, verifier_from_settings
from authgate.core.factors import Methods
from authgate.delivery.messages import message_handlers
from authgate.delivery.outbox import Courier, Handler
from authgate.delivery.webhooks import WEBHOOK, EventFanOut, WebhookHandler
from authgate.methods import methods_from_settings
from authgate.observability.logging import get_logger
from authgate.observability.metrics import Metrics
from authgate.runtime import key_ring as signing_keys
from authgate.runtime import retention
from authgate.runtime.caches import PrincipalCache, VerifiedTokens
from authgate.runtime.key_ring import KeyRing
from authgate.runtime.role_book import RoleBook
from authgate.security.codes import CodeHasher
from authgate.security.crypto import SecretBox
from authgate.security.hashing import HashPolicy
from authgate.security.hashing.argon2_family import Argon2Params
from authgate.security.passwords import PasswordHasher, PasswordPolicy
from authgate.security.signed_tokens import TokenCodec
from authgate.settings import Settings, cpu_count
from authgate.storage.audit_chain import AuditChain
from authgate.storage.db import (
    PoolSettings,
    make_autocommit_engine,
    make_engine,
    make_sessionmaker,
    make_write_turn,
    ping,
)
from authgate.storage.driver_lane import HotLane
from authgate.storage.uow import UnitOfWork, unit_of_work

log = get_logger("authgate.runtime")

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from authgate.oauth import Provider


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    db: async_sessionmaker[AsyncSession]  # transactions; use cases go through uow()
    autocommit: async_sessionmaker[AsyncSession]  # each statement its own transaction; use cases go through read()
    hasher: PasswordHasher
    codec: TokenCodec
    policy: PasswordPolicy
    metrics: Metrics
    box: SecretBox
    courier: Courier  # mail, SMS and webhook deliveries (delivery/outbox.py)
    codes: CodeHasher
    methods: Methods
    provider_client: httpx.AsyncClient | None  # calls to sign-in and CAPTCHA providers; None: none configured
    providers: dict[str, Provider]  # sign-in providers by name (AUTHGATE_OAUTH_<NAME>_*)
    limiter: RateLimiter  # request and sending rate limits (abuse/limiter.py)
    lockout: Lockout  # failed checks of secrets (abuse/lockout.py)
    captcha: CaptchaVerifier | None  # AUTHGATE_CAPTCHA_PROVIDER; None: no CAPTCHA (captcha/)
    roles: RoleBook  # capabilities by role, kept fresh (security/capabilities.py)
    chain: AuditChain  # hashes of the audit trail (storage/audit_chain.py)
    keys: KeyRing  # what signs and verifies access tokens (runtime/key_ring.py)
    verified_tokens: VerifiedTokens  # keyed by token, remembering each one's kid
    lane: HotLane  # the one statement of every refresh (storage/driver_lane.py)
    principals: PrincipalCache = field(default_factory=PrincipalCache)
    next_refresh_sweep: float = 0.0  # monotonic time; see services/refresh.py
    redis: Redis | None = None  # AUTHGATE_REDIS_URL; shared state across nodes
    purging: asyncio.Task[None] | None = None  # the retention purge (runtime/retention.py)

    @classmethod
    def build(cls, settings: Settings, metrics: Metrics | None = None) -> Runtime:
        metrics = metrics or Metrics()
        engine = make_engine(
            settings.database_url,
            PoolSettings(
                size=settings.database_pool_size,
                max_overflow=settings.database_max_overflow,
                timeout_seconds=settings.database_pool_timeout_seconds,
                connect_timeout_seconds=settings.database_connect_timeout_seconds,
            ),
        )
        autocommit_engine = make_autocommit_engine(engine)
        db = make_sessionmaker(engine)
        write_turn = make_write_turn(settings.database_url)
        autocommit = make_sessionmaker(autocommit_engine, write_turn)
        box = SecretBox(settings.encryption_key or settings.jwt_secret)
        handlers: dict[str, Handler] = {
            **message_handlers(settings, box),
            WEBHOOK: WebhookHandler(
                reads=autocommit,
                box=box,
                timeout=settings.webhook_timeout_seconds,
                allow_private=settings.webhook_allow_private,
                max_attempts=settings.webhook_max_attempts,
                retry_base_seconds=settings.webhook_retry_base_seconds,
            ),
        }
        courier = Courier(db=db, reads=autocommit, handlers=handlers, feeders=(EventFanOut(db),))
        # Made only when a provider is configured: a client's TLS context costs about 7 MB.
        provider_client = httpx.AsyncClient(headers={"User-Agent": "authgate"}) if _calls_out(settings) else None
        redis = _redis_client(settings.redis_url) if settings.redis_url else None
        prefix = settings.redis_key_prefix
        keys = KeyRing(algorithm=settings.jwt_algorithm, secret=settings.jwt_secret, reads=autocommit, box=box)
        verified_tokens = VerifiedTokens(accepts=lambda kid: keys.lookup(kid) is not None)
        keys.on_change(verified_tokens.drop_kids)
        state: LockoutState = RedisLockoutState(redis, prefix) if redis is not None else MemoryLockoutState()
        return cls(
            settings=settings,
            engine=engine,
            lane=HotLane(engine, autocommit_engine, write_turn),
            db=db,
            autocommit=autocommit,
            roles=RoleBook(autocommit),
            chain=AuditChain(settings.encryption_key or settings.jwt_secret),
            redis=redis,
            limiter=RateLimiter(settings.rate_limit_rules, redis, prefix),
            lockout=Lockout(state, threshold=settings.lockout_threshold, base_seconds=settings.lockout_seconds),
            captcha=verifier_from_settings(settings, provider_client, state),
            hasher=PasswordHasher(hash_policy(settings), cpu_count(), metrics.observe_hash),
            keys=keys,
            verified_tokens=verified_tokens,
            codec=TokenCodec(keys, settings.issuer, settings.jwt_audience),
            policy=PasswordPolicy(
                min_length=settings.password_min_length,
                require_mixed=settings.password_require_mixed,
                block_common=settings.password_block_common,
            ),
            metrics=metrics,
            box=box,
            courier=courier,
            codes=CodeHasher(settings.encryption_key or settings.jwt_secret),
            methods=methods_from_settings(settings),
            provider_client=provider_client,
            providers=_providers(settings, provider_client) if provider_client is not None else {},
        )

    def uow(self) -> AbstractAsyncContextManager[UnitOfWork]:
        """One transaction for one use case (storage/uow.py)."""
        return unit_of_work(self.db, self.chain, on_event=self.courier.poke_feeders)

    def read(self) -> AbstractAsyncContextManager[AsyncSession]:
        """A session for lookups: each statement commits on its own, so no lock is held
        across the hand-offs (docs/architecture.md); and for the single conditional writes
        that the repositories run that way."""
        return self.autocommit()

    async def unready_part(self) -> str | None:
        """What does not answer ("The database", "Redis"), if anything (readiness)."""
        try:
            await ping(self.engine)
        except Exception:
            return "The database"
        if self.redis is not None:
            try:
                await self.redis.ping()
            except Exception:
                return "Redis"
        return None

    async def start(self) -> None:
        """Read the roles and the signing keys, and start the background parts (the message
        courier, the roles' and keys' reload, the retention purge). A database that does not
        answer yet does not stop the start: readiness says so, and the keys' reload retries."""
        if warning := self.settings.password_hash_warning:
            log.warning("password_hash_settings", warning=warning)
        if note := self.settings.passkey_start_note:
            log.warning("passkey_settings", note=note)
        await self.roles.start()
        try:
            await signing_keys.ensure_signing_key(self)
        except Exception as exc:
            log.warning("signing_key_unavailable", error=type(exc).__name__)
        self.keys.start(lambda: signing_keys.tick(self))
        self.courier.start()
        self.purging = retention.start(self)

    async def close(self) -> None:
        if self.purging is not None:
            self.purging.cancel()
            with suppress(asyncio.CancelledError):
                await self.purging
            self.purging = None
        await self.roles.close()
        await self.keys.close()
        await self.courier.close()
        if self.provider_client is not None:
            await self.provider_client.aclose()
        self.hasher.close()
        await self.lane.close()
        await self.engine.dispose()
        if self.redis is not None:
            await self.redis.aclose()


def hash_policy(settings: Settings) -> HashPolicy:
    """What new password hashes are made with (AUTHGATE_PASSWORD_HASH and its parameters)."""
    return HashPolicy(
        setting=settings.password_hash,
        bcrypt_rounds=settings.bcrypt_rounds,
        argon2=Argon2Params(settings.argon2_memory_kib, settings.argon2_time_cost, settings.argon2_parallelism),
    )


def _calls_out(settings: Settings) -> bool:
    """Whether a sign-in provider or a hosted CAPTCHA is configured (they are set only by settings)."""
    return bool(settings.oauth_providers) or asks_over_http(settings)


def _providers(settings: Settings, client: httpx.AsyncClient) -> dict[str, Provider]:
    """Imported here: without a sign-in provider, authlib and joserfc never load (about 2.5 MB)."""
    from authgate.oauth.registry import providers_from_settings

    return providers_from_settings(settings, client)


def _redis_client(url: str) -> Redis:
    """Imported here: without AUTHGATE_REDIS_URL the library never loads (about 6 MB)."""
    from redis.asyncio import Redis

    return Redis.from_url(url, socket_timeout=2, socket_connect_timeout=1)
