"""The registry of second factors (TOTP, recovery codes, SMS/email codes, later passkeys).

Each factor is one module that knows whether a user has it and how to check (and consume) a
code. The sign-in gate asks the registry in turn, so a new factor plugs in by registering
itself here, without touching the login service.
"""

from __future__ import annotations

from typing import Protocol

from authgate.services.runtime import Runtime
from authgate.storage.models import User


class SecondFactor(Protocol):
    name: str  # "totp", "recovery", "otp"
    amr: str  # what it adds to the token's `amr` claim (RFC 8176): "otp", "sms", ...

    async def enabled_for(self, rt: Runtime, user: User) -> bool: ...

    async def verify(self, rt: Runtime, user: User, code: str) -> bool:
        """True if `code` is right; a single-use code is consumed atomically by this call."""
        ...


REGISTRY: list[SecondFactor] = []


def register_factor(factor: SecondFactor) -> SecondFactor:
    if all(f.name != factor.name for f in REGISTRY):
        REGISTRY.append(factor)
    return factor


async def enabled_factors(rt: Runtime, user: User) -> list[SecondFactor]:
    return [f for f in REGISTRY if await f.enabled_for(rt, user)]
