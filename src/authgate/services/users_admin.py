"""Acting on users on an operator's behalf: creating them (CLI bootstrap), lifting a lockout."""

from __future__ import annotations

from authgate.abuse.lockout import account
from authgate.errors import FieldError, not_found, validation_failed
from authgate.services.accounts import Registration, add_user, new_user
from authgate.services.context import RequestContext
from authgate.services.runtime import Runtime
from authgate.storage.models import User
from authgate.storage.repositories import roles as role_repo
from authgate.storage.repositories import users as user_repo


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
    reg = Registration(email=email, password=password, name=name, username=username)
    user = await new_user(rt, reg, role=role, email_verified=verified)
    async with rt.uow() as tx:
        if await role_repo.hold(tx.db, name=role) is None:
            known = ", ".join(r.name for r in await role_repo.all_roles(tx.db))
            raise validation_failed(FieldError("role", f"Unknown role; known: {known}."))
        await add_user(tx, user=user)
    return user


async def unlock(rt: Runtime, *, user_id: str, actor_id: str, ctx: RequestContext) -> bool:
    """Lift the account's lockout and forget its failed sign-ins; True if it was locked."""
    async with rt.read() as db:
        user = await user_repo.get(db, user_id=user_id)
    if user is None:
        raise not_found("No such user.")
    async with rt.uow() as tx:  # a lockout store that does not answer leaves no audit entry
        was_locked = await rt.lockout.unlock(account(user_id))
        where = {"ip_address": ctx.ip_address, "user_agent": ctx.user_agent}
        tx.audit("user.unlocked", user_id=user_id, actor_id=actor_id, **where, wasLocked=was_locked)
        tx.emit("user.unlocked", userId=user_id, actorId=actor_id, wasLocked=was_locked)
    return was_locked
