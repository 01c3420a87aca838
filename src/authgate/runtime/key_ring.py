"""The keys that sign and verify access tokens, as this node knows them.

Under HS256 (the default) there is one key, `JWT_SECRET`. Under EdDSA, ES256 or RS256 the
keys live in the database: the newest one not retired signs; a retired one still verifies,
and is still published in the JWKS, until its grace period ends. Every node reads the table
every few seconds (and at once when a token names a `kid` it does not know, at most once a
second), so a rotation done by `authgate keys rotate` or by another node reaches all of them
without a restart. A key's end is a time, checked on every use, so a key stops verifying when
its grace period ends even between two reads.

Rotation is one transaction: retire the signing key(s), insert the new one, delete keys whose
grace is over, audit it. A scheduled rotation retires only the key it saw signing, with one
conditional UPDATE, so of several nodes that find a key due at once only one rotates.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

from jwt import PyJWK
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from authgate.observability.logging import get_logger
from authgate.runtime.periodic import Periodic
from authgate.security.crypto import SecretBox
from authgate.security.key_pairs import HS256, generate, load_private, secret_kid
from authgate.storage.models import SigningKey, utcnow
from authgate.storage.repositories import signing_keys as key_repo

if TYPE_CHECKING:
    from authgate.settings import Settings
    from authgate.storage.uow import UnitOfWork

log = get_logger("authgate.keys")
RELOAD_SECONDS = 5.0  # how stale a node's copy of the key table may get
UNKNOWN_KID_RELOAD_SECONDS = 1.0  # an unknown kid reads the table at most this often
JWKS_MAX_AGE = 300  # what verifiers may cache the JWKS for, at most


@dataclass(frozen=True)
class VerifyingKey:
    kid: str
    algorithm: str
    key: Any  # the public key object, or the HS256 secret
    expires_at: float | None  # Unix time it stops verifying; None while it signs
    jwk: dict[str, Any] | None  # what the JWKS publishes (asymmetric keys only)

    def usable(self, now: float) -> bool:
        return self.expires_at is None or now < self.expires_at


@dataclass(frozen=True)
class Signer:
    kid: str
    algorithm: str
    key: Any  # the private key object, or the HS256 secret
    created_at: float


class KeyRing:
    """This node's copy of the key set; see the module docstring."""

    def __init__(self, *, algorithm: str, secret: str, reads: async_sessionmaker[AsyncSession], box: SecretBox) -> None:
        self.algorithm = algorithm
        self._reads = reads
        self._box = box
        self._keys: dict[str, VerifyingKey] = {}
        self.signer: Signer | None = None
        self._listeners: list[Callable[[set[str]], None]] = []
        self._loaded_at = 0.0  # monotonic
        self._reloading: asyncio.Task[None] | None = None
        self._task: asyncio.Task[None] | None = None
        if algorithm == HS256:
            kid = secret_kid(secret)
            self._keys = {kid: VerifyingKey(kid, HS256, secret, None, None)}
            self.signer = Signer(kid, HS256, secret, 0.0)

    @property
    def stored(self) -> bool:
        """Whether keys come from the database (an asymmetric algorithm)."""
        return self.algorithm != HS256

    def lookup(self, kid: str | None) -> VerifyingKey | None:
        """The key a token's `kid` names, if it is one of ours and still verifies. A token
        without `kid` (issued before key ids) can only mean the HS256 secret."""
        if kid is None and not self.stored and self.signer is not None:
            kid = self.signer.kid
        key = self._keys.get(kid) if kid is not None else None
        return key if key is not None and key.usable(time.time()) else None

    def published(self) -> list[dict[str, Any]]:
        """The public JWKs that verify now, the signing one first."""
        now = time.time()
        keys = [k for k in self._keys.values() if k.jwk is not None and k.usable(now)]
        keys.sort(key=lambda k: (self.signer is None or k.kid != self.signer.kid, -(k.expires_at or 0)))
        return [k.jwk for k in keys if k.jwk is not None]

    def max_age(self) -> int:
        """How long the JWKS may be cached: never past the moment a published key expires."""
        now = time.time()
        ends = [k.expires_at - now for k in self._keys.values() if k.expires_at is not None and k.usable(now)]
        return max(0, min([JWKS_MAX_AGE, *(int(end) for end in ends)]))

    def on_change(self, listener: Callable[[set[str]], None]) -> None:
        """`listener(gone_kids)` runs whenever keys leave the set (caches keyed by kid)."""
        self._listeners.append(listener)

    async def reload(self) -> None:
        if not self.stored:
            return
        async with self._reads() as db:
            rows = await key_repo.usable(db, now=utcnow())
        self._apply(rows)

    def _apply(self, rows: list[SigningKey]) -> None:
        keys: dict[str, VerifyingKey] = {}
        signer: SigningKey | None = None
        for row in rows:
            jwk: dict[str, Any] = json.loads(row.public_jwk)
            public = self._keys.get(row.kid)
            keys[row.kid] = VerifyingKey(
                kid=row.kid,
                algorithm=row.algorithm,
                key=public.key if public is not None else PyJWK(jwk, row.algorithm).key,
                expires_at=row.expires_at.timestamp() if row.expires_at is not None else None,
                jwk=jwk,
            )
            if row.retired_at is None and row.algorithm == self.algorithm:
                signer = row  # rows come oldest first: the newest wins
        if signer is None:
            self.signer = None
        elif self.signer is None or self.signer.kid != signer.kid:
            private = load_private(self._box.open(signer.private_key, context=sealing_context(signer.kid)))
            self.signer = Signer(signer.kid, signer.algorithm, private, signer.created_at.timestamp())
        gone = set(self._keys) - set(keys)
        self._keys = keys
        self._loaded_at = time.monotonic()
        if gone:
            for listener in self._listeners:
                listener(gone)

    async def reload_for_unknown(self, kid: str) -> None:
        """A token names a kid this node has not seen: perhaps another node or the CLI just
        rotated. Read the table, at most once a second, one read shared by all who ask."""
        if not self.stored or kid in self._keys or time.monotonic() - self._loaded_at < UNKNOWN_KID_RELOAD_SECONDS:
            return
        if self._reloading is None or self._reloading.done():
            self._reloading = asyncio.get_running_loop().create_task(self.reload())
        with contextlib.suppress(Exception):  # a failed read leaves the token unverified, nothing more
            await asyncio.shield(self._reloading)

    async def reload_if_older(self, seconds: float) -> None:
        if self.stored and time.monotonic() - self._loaded_at >= seconds:
            await self.reload()

    def start(self, tick: Callable[[], Awaitable[None]]) -> None:
        """Run `tick` every few seconds (reload, and rotate when due)."""
        if self.stored and self._task is None:
            ticks = Periodic(RELOAD_SECONDS, tick, failure_event="keys_reload_failed")
            self._task = asyncio.get_running_loop().create_task(ticks.run_forever())

    async def close(self) -> None:
        for task in (self._task, self._reloading):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._task = self._reloading = None


class RotationParts(Protocol):
    """What rotating keys uses: the ring, its settings, the box private keys are sealed in."""

    @property
    def keys(self) -> KeyRing: ...
    @property
    def settings(self) -> Settings: ...
    @property
    def box(self) -> SecretBox: ...
    def uow(self) -> AbstractAsyncContextManager[UnitOfWork]: ...


def sealing_context(kid: str) -> str:
    """Binds a sealed private key to its kid: a ciphertext moved to another row won't open."""
    return f"signing-key:{kid}"


async def rotate(
    rt: RotationParts, *, reason: str, grace_seconds: int | None = None, only: str | None = None
) -> str | None:
    """Make a new signing key and retire the current one(s), which verify for the grace
    period. With `only`, rotate only if that key is still the one signing (a scheduled
    rotation); returns the new kid, or None when another node rotated first."""
    if not rt.keys.stored:
        raise ValueError("under HS256 the signing key is JWT_SECRET; set AUTHGATE_JWT_ALGORITHM to rotate keys")
    new = await asyncio.to_thread(generate, rt.settings.jwt_algorithm)  # an RSA key takes ~0.1 s
    grace = rt.settings.key_grace_seconds if grace_seconds is None else grace_seconds
    now = utcnow()
    async with rt.uow() as tx:
        retired = await key_repo.retire(tx.db, now=now, expires_at=now + timedelta(seconds=grace), only=only)
        if only is not None and not retired:
            return None
        await key_repo.remove_expired(tx.db, now=now)
        row = SigningKey(
            kid=new.kid,
            algorithm=new.algorithm,
            public_jwk=json.dumps(new.public_jwk),
            private_key=rt.box.seal(new.private_pem, context=sealing_context(new.kid)),
            created_at=now,
        )
        await key_repo.add(tx.db, key=row)
        tx.audit(
            "signing_key.rotated",
            user_id=None,
            kid=new.kid,
            algorithm=new.algorithm,
            retired=retired,
            graceSeconds=grace,
            reason=reason,
        )
    log.info("signing_key_rotated", kid=new.kid, algorithm=new.algorithm, retired=retired, reason=reason)
    await rt.keys.reload()
    return new.kid


async def ensure_signing_key(rt: RotationParts) -> None:
    """At start: under an asymmetric algorithm, make the first key if none of that algorithm
    signs yet (keys of an algorithm configured before are retired with the usual grace)."""
    if not rt.keys.stored:
        return
    await rt.keys.reload()
    if rt.keys.signer is None:
        await rotate(rt, reason="no_signing_key")


async def tick(rt: RotationParts) -> None:
    """Every few seconds: read the key table; rotate if the signing key is due."""
    await rt.keys.reload()
    signer = rt.keys.signer
    every = rt.settings.key_rotation_seconds
    if signer is None:
        await ensure_signing_key(rt)
    elif every and time.time() - signer.created_at >= every:
        await rotate(rt, reason="scheduled", only=signer.kid)
