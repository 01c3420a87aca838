"""Where state is kept: the database, and Redis when nodes share counters."""

from __future__ import annotations

from pydantic import Field

from authgate.settings.base import Section
from authgate.settings.types import DatabaseUrl, RedisUrl


class StorageSettings(Section):
    database_url: DatabaseUrl = "sqlite+aiosqlite:///./authgate.db"
    """`sqlite+aiosqlite:///…` (one node) or `postgresql+asyncpg://…` (one or many nodes)."""
    redis_url: RedisUrl = None
    """`redis://…` (or `rediss://`, `unix://`); when set, every node shares rate limits, sending limits, the SMS budget
    and lockout counts through it, and `/readyz` also needs Redis (docs/abuse-protection.md#when-redis-goes-away)."""
    redis_key_prefix: str = Field(default="authgate:", min_length=1, max_length=64)
    """The start of every key authgate keeps in Redis (1 to 64 characters); deployments sharing one Redis need different
    ones."""
    database_pool_size: int = Field(default=10, ge=1, le=1000)
    """Database connections each process keeps open."""
    database_max_overflow: int = Field(default=0, ge=0, le=1000)
    """Extra connections a process may open when all its pooled ones are in use, each closed again when returned. None
    by default: under steady load above the pool's size they would be opened and closed all the time, and opening one
    costs far more than waiting a moment for one of the pool's."""
    database_pool_timeout_seconds: float = Field(default=10.0, gt=0)
    """How long a request waits for a free connection before it is answered 503."""
    database_connect_timeout_seconds: float = Field(default=5.0, gt=0)
    """How long opening a PostgreSQL connection may take: an unreachable database fails this fast."""
