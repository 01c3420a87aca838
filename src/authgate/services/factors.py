"""The registry of second factors (TOTP, recovery codes, SMS/email codes, later passkeys).

Each factor is one module that knows whether a user has it and how to check (and consume) a
code. The sign-in gate asks the registry in turn, so a new factor plugs in by registering
itself here, without touching the login service.
"""

from __future__ import annotations

import importlib
from typing import Protocol

from authgate.services.runtime import Runtime
from authgate.storage.models import User, utcnow
from authgate.storage.repositories import users as user_repo


class SecondFactor(Protocol):
    name: str  # "totp", "recovery", "otp"
    amr: str  # what it adds to the token's `amr` claim (RFC 8176): "otp", "sms", ...

    async def enabled_for(self, rt: Runtime, user: User) -> bool: ...

    async def verify(self, rt: Runtime, user: User, code: str) -> bool:
        """True if `code` is right; a single-use code is consumed atomically by this call."""
        ...


REGISTRY: list[SecondFactor] = []

# The modules that register a factor when imported. The gate loads them before its first
# check, so no entry point (app, CLI, a test) can run it with an empty registry, which would
# silently skip MFA. A new factor adds its module here.
FACTOR_MODULES: tuple[str, ...] = (
    "authgate.services.factors_totp",
    "authgate.services.factors_recovery",
    "authgate.services.otp",
)


def register_factor(factor: SecondFactor) -> SecondFactor:
    if all(f.name != factor.name for f in REGISTRY):
        REGISTRY.append(factor)
    return factor


def load_factors() -> list[SecondFactor]:
    for module in FACTOR_MODULES:
        importlib.import_module(module)  # registers on first import; a dict lookup after
    return REGISTRY


async def enabled_factors(rt: Runtime, user: User) -> list[SecondFactor]:
    return [f for f in load_factors() if await f.enabled_for(rt, user)]


async def sync_mfa_flag(rt: Runtime, *, user_id: str) -> None:
    """Set the user object's `mfaEnabled` from the registry after a factor was turned on or
    off. The registry is the authority the sign-in gate asks; the flag only reports it."""
    async with rt.autocommit() as db:
        user = await user_repo.get(db, user_id=user_id)
    if user is None:
        return
    enabled = bool(await enabled_factors(rt, user))
    if enabled != user.mfa_enabled:
        async with rt.db.begin() as db:
            await user_repo.set_mfa_enabled(db, user_id=user_id, enabled=enabled, now=utcnow())
    rt.principals.drop_user(user_id)
