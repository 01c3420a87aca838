"""Creating users on an operator's behalf (CLI bootstrap; the admin API later)."""

from __future__ import annotations

from authgate.errors import FieldError, validation_failed
from authgate.services.accounts import Registration, add_user, new_user
from authgate.services.roles import BUILTIN_ROLES
from authgate.services.runtime import Runtime
from authgate.storage.models import User


async def create_user(
    rt: Runtime,
    *,
    email: str,
    password: str,
    username: str | None = None,
    name: str | None = None,
    role: str = "user",
    verified: bool = False,
) -> User:
    if role not in BUILTIN_ROLES:
        raise validation_failed(FieldError("role", f"Unknown role; known: {', '.join(BUILTIN_ROLES)}."))
    reg = Registration(email=email, password=password, name=name, username=username)
    user = await new_user(rt, reg, role=role, email_verified=verified)
    async with rt.uow() as tx:
        await add_user(tx, user=user)
    return user
