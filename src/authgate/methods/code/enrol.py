"""Turning the one-time-code second factor on (proved by a code sent to that phone or address,
which also verifies it) and off (proved by a code of any current factor)."""

from __future__ import annotations

from authgate.abuse.lockout import account
from authgate.core.parts import Parts
from authgate.core.principal import Principal
from authgate.delivery.base import EMAIL
from authgate.errors import FieldError, validation_failed
from authgate.methods.code.factor import CODE
from authgate.methods.code.flows import MFA, CodeCheck, invalid_code, own_destination, redeem, stored_address
from authgate.methods.second_factors import sync_mfa_flag
from authgate.scope import RequestContext
from authgate.signin import gate
from authgate.signin.reauth import Reauthentication, require_recent_sign_in
from authgate.storage.models import User, utcnow
from authgate.storage.repositories import mfa as mfa_repo
from authgate.storage.repositories import one_time as one_time_repo
from authgate.storage.repositories import users as user_repo


async def enable_code_factor(
    rt: Parts, *, principal: Principal, check: CodeCheck, reauth: Reauthentication, ctx: RequestContext
) -> str:
    """Turn the one-time-code second factor on for `check.channel`, proved by a code sent
    there with purpose "mfa" (which also verifies that phone or address)."""
    await require_recent_sign_in(rt, principal, reauth, ctx=ctx)
    caller = principal.user
    destination = own_destination(check.channel, caller, check.destination)
    address = stored_address(check.channel, destination)
    async with gate.counting(rt, ctx, subject=account(caller.id)):
        right = await redeem(rt, purpose=MFA, check=check, address=address, user_id=caller.id)
    now = utcnow()
    async with rt.uow() as tx:
        if not await one_time_repo.consume(tx.db, secret_id=right.secret_id, now=now):
            raise invalid_code(MFA)
        await mfa_repo.set_code_factor(tx.db, user_id=caller.id, channel=check.channel, now=now)
        if check.channel == EMAIL:
            await user_repo.mark_email_verified(tx.db, user_id=caller.id, email_key=address, now=now)
        else:
            await user_repo.mark_phone_verified(tx.db, user_id=caller.id, phone=address, now=now)
        await sync_mfa_flag(tx, rt, user_id=caller.id)
        tx.audit("mfa.enabled", user_id=caller.id, factor=CODE.name, channel=check.channel)
        tx.emit("mfa.enabled", userId=caller.id, factor=CODE.name, channel=check.channel)
    return check.channel


async def remove_code_factor(rt: Parts, *, user: User, code: str, ctx: RequestContext) -> None:
    """Turn the code second factor off; the code may come from any second factor that is on
    (it is the re-authentication), checked in the transaction that removes the factor."""
    async with rt.read() as db:
        factor = await mfa_repo.get_code_factor(db, user_id=user.id)
    if factor is None:
        raise validation_failed(FieldError("verificationCode", "The one-time-code second factor is not on."))
    async with gate.counting(rt, ctx, subject=account(user.id)):
        step = await gate.second_step(rt, user_id=user.id, code=code)
        async with rt.uow() as tx:
            await gate.confirm_current_factor(rt, tx, user=user, step=step)
            await mfa_repo.delete_code_factor(tx.db, user_id=user.id)
            await sync_mfa_flag(tx, rt, user_id=user.id)
            tx.audit("mfa.disabled", user_id=user.id, factor=CODE.name)
            tx.emit("mfa.disabled", userId=user.id, factor=CODE.name)
