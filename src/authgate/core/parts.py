"""What a use case may use of the runtime, as a Protocol the runtime satisfies.

Use cases (`signin/`, `methods/`, `services/`) take `rt: Parts`, never the runtime itself:
the runtime (`runtime/`) builds them all, so importing it from below would close a circle.
mypy checks at every call from `http/` that the runtime still has every part named here.
The parts the runtime keeps itself (the role book, the session cache, the verified-token
cache) appear as the few operations use cases call on them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from authgate.abuse.limiter import RateLimiter
    from authgate.abuse.lockout import Lockout
    from authgate.captcha.base import CaptchaVerifier
    from authgate.core.factors import Methods
    from authgate.delivery.outbox import Courier
    from authgate.oauth.base import Provider
    from authgate.observability.metrics import Metrics
    from authgate.security.codes import CodeHasher
    from authgate.security.crypto import SecretBox
    from authgate.security.passwords import PasswordHasher, PasswordPolicy
    from authgate.security.signed_tokens import TokenCodec
    from authgate.settings import Settings
    from authgate.storage.audit_chain import AuditChain
    from authgate.storage.driver_lane import HotLane
    from authgate.storage.models import Role, Session, User
    from authgate.storage.uow import UnitOfWork


class Roles(Protocol):
    """The role book: capabilities by role, kept fresh by the runtime."""

    def caps(self, role: str) -> list[str]: ...
    def put(self, role: Role) -> None: ...
    def drop(self, name: str) -> None: ...


class SessionCache(Protocol):
    """Live sessions by id, for at most a second; dropped at once on a change."""

    async def fetch(
        self, session_id: str, load: Callable[[], Awaitable[tuple[Session, User] | None]]
    ) -> tuple[Session, User] | None: ...
    def drop_sessions(self, session_ids: list[str]) -> None: ...
    def drop_user(self, user_id: str) -> None: ...


class TokenCache(Protocol):
    """Claims of access tokens already verified, by the exact token string."""

    def get(self, token: str) -> dict[str, Any] | None: ...
    def put(self, token: str, kid: str | None, claims: dict[str, Any]) -> None: ...


class Parts(Protocol):
    next_refresh_sweep: float  # monotonic time of the next sweep of expired sessions

    @property
    def settings(self) -> Settings: ...
    @property
    def metrics(self) -> Metrics: ...
    @property
    def hasher(self) -> PasswordHasher: ...
    @property
    def policy(self) -> PasswordPolicy: ...
    @property
    def codec(self) -> TokenCodec: ...
    @property
    def box(self) -> SecretBox: ...
    @property
    def codes(self) -> CodeHasher: ...
    @property
    def methods(self) -> Methods: ...
    @property
    def courier(self) -> Courier: ...
    @property
    def limiter(self) -> RateLimiter: ...
    @property
    def lockout(self) -> Lockout: ...
    @property
    def captcha(self) -> CaptchaVerifier | None: ...
    @property
    def providers(self) -> dict[str, Provider]: ...
    @property
    def chain(self) -> AuditChain: ...
    @property
    def roles(self) -> Roles: ...
    @property
    def lane(self) -> HotLane: ...
    @property
    def principals(self) -> SessionCache: ...
    @property
    def verified_tokens(self) -> TokenCache: ...

    def uow(self) -> AbstractAsyncContextManager[UnitOfWork]:
        """One transaction for one use case (storage/uow.py)."""
        ...

    def read(self) -> AbstractAsyncContextManager[AsyncSession]:
        """Lookups, and the single conditional writes the repositories run on their own."""
        ...
