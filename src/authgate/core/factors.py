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

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from authgate.runtime import Runtime
    from authgate.storage.models import User
    from authgate.storage.uow import UnitOfWork

# The channels a proof can come through.
KNOWLEDGE = "knowledge"  # something remembered: a password or PIN
AUTHENTICATOR = "authenticator"  # an app holding a TOTP secret
RECOVERY = "recovery"  # a printed list of recovery codes
EMAIL = "email"  # a mailbox
SMS = "sms"  # a phone


@dataclass(frozen=True)
class Proof:
    method: str
    amr: str
    channel: str


class Method(Protocol):
    name: str  # what clients name it: "password", "totp", "recovery", "code", "link"
    first_factor: bool
    second_factor: bool


class SecondFactor(Method, Protocol):
    async def enrolled(self, db: AsyncSession, user: User) -> Proof | None:
        """The proof this factor gives for `user`, or None if the user has not turned it on."""
        ...

    async def verify(self, rt: Runtime, tx: UnitOfWork, user: User, code: str) -> bool:
        """True if `code` is right; a single-use code is used up in `tx` by this call."""
        ...
