"""What every credential method is, for the sign-in gate.

A method proves something about the person signing in: a password they know, an
authenticator app they hold, a mailbox or a phone they control. `Proof` records which: the
method, its `amr` value for the access token (RFC 8176 where one fits), and the channel it
came through. The gate uses the channel to keep the factors of one sign-in independent: a
second factor must come through a different channel than the first (a mailbox cannot be
both).

First-factor methods have entry points of their own shape (a password needs an identifier,
a link only its token), so the Protocol names only what the gate asks of every method, and
what it asks of a second factor.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from authgate.security.codes import CodeHasher
    from authgate.security.crypto import SecretBox
    from authgate.storage.models import User
    from authgate.storage.uow import UnitOfWork

# The channels a proof can come through.
KNOWLEDGE = "knowledge"  # something remembered: a password or PIN
AUTHENTICATOR = "authenticator"  # an app holding a TOTP secret
RECOVERY = "recovery"  # a printed list of recovery codes
EMAIL = "email"  # a mailbox
SMS = "sms"  # a phone
PASSKEY = "passkey"  # an authenticator holding a WebAuthn private key


@dataclass(frozen=True)
class Proof:
    """`multi_factor`: this one proof counts as both factors (a user-verified passkey, when
    AUTHGATE_PASSKEY_SATISFIES_MFA is on): no second step follows, and `amr` gains `mfa`."""

    method: str
    amr: str
    channel: str
    multi_factor: bool = False


class Method(Protocol):
    name: str  # what clients name it: "password", "totp", "recovery", "code", "link"
    first_factor: bool
    second_factor: bool


class SecondFactor(Method, Protocol):
    # Whether having this factor asks every sign-in for a second step (and sets `mfaEnabled`).
    # A passkey does not: it can finish a second step that other factors ask for.
    enables_mfa: bool

    async def enrolled(self, db: AsyncSession, user: User) -> Proof | None:
        """The proof this factor gives for `user`, or None if the user has not turned it on."""
        ...

    async def charge(self, parts: FactorParts, *, user_id: str, code: str) -> str | None:
        """Before the sign-in's transaction: spend a try of a code that allows only a few
        (committed at once, whatever follows) and return its id when `code` matches it. None
        for a factor without such tries (TOTP, recovery codes)."""
        ...

    async def verify(self, parts: FactorParts, tx: UnitOfWork, user: User, attempt: Attempt) -> Proof | None:
        """The proof, if the attempt is right for this factor; a single-use code is used up (a
        passkey's counter recorded) in `tx` by this call."""
        ...


class FactorParts(Protocol):
    """What a second factor may use of the runtime: the box its stored secrets are sealed in,
    the keyed hash of one-time codes, and transactions for the tries it spends."""

    @property
    def box(self) -> SecretBox: ...
    @property
    def codes(self) -> CodeHasher: ...
    def uow(self) -> AbstractAsyncContextManager[UnitOfWork]: ...
    def read(self) -> AbstractAsyncContextManager[AsyncSession]: ...


@dataclass(frozen=True)
class CheckedAssertion:
    """A passkey's assertion whose signature, challenge, origin and counter were checked before
    the sign-in's transaction; what that transaction records (conditionally on `old_count`)."""

    passkey_id: str
    old_count: int
    new_count: int
    backed_up: bool
    proof: Proof


@dataclass(frozen=True)
class Attempt:
    """What the user presents for a second factor: a code, or a passkey's checked assertion.
    `charged`: the one-time code (sent by email or SMS) `code` matched, its try already spent
    and committed before the sign-in's own transaction (`SecondFactor.charge`), still to be
    used up."""

    code: str | None = None
    charged: str | None = None
    asserted: CheckedAssertion | None = None


@dataclass(frozen=True)
class Methods:
    """The credential methods the runtime built from settings (`methods_from_settings`); the
    gate asks this list, never a method by name."""

    first: tuple[Method, ...]
    second: tuple[SecondFactor, ...]
