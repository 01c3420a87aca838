"""Registering and editing one's own account."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from authgate.abuse.lockout import account
from authgate.core.parts import Parts
from authgate.core.principal import Principal
from authgate.delivery.base import SMS
from authgate.errors import FieldError, validation_failed
from authgate.methods.link.flows import VOIDED_BY_PASSWORD_CHANGE
from authgate.methods.password.factor import PASSWORD
from authgate.scope import RequestContext
from authgate.security.identifiers import (
    normalize_phone,
    normalize_username,
    username_key,
)
from authgate.services import onboarding
from authgate.signin import gate
from authgate.signin.reauth import Reauthentication, confirm_password, require_recent_sign_in
from authgate.signin.registration import Registration, add_user, check, check_name, new_user, taken
from authgate.signin.sessions import LoginResult, revoke_user_sessions
from authgate.storage.models import User, utcnow
from authgate.storage.repositories import mfa as mfa_repo
from authgate.storage.repositories import one_time as one_time_repo
from authgate.storage.repositories import users as user_repo
from authgate.storage.repositories.users import DuplicateUser
from authgate.storage.uow import UnitOfWork


@dataclass(frozen=True)
class ProfileChange:
    """Fields absent from the request are None and left alone; "" clears an optional field."""

    name: str | None = None
    username: str | None = None
    phone: str | None = None
    password: str | None = None
    current_password: str | None = None
    mfa_code: str | None = None  # moving the phone of the SMS second factor needs a current factor


@dataclass(frozen=True)
class Registered:
    user: User
    result: LoginResult | None  # None when the gate lets no session start yet (verification required)


async def register(rt: Parts, reg: Registration, welcome: onboarding.Welcome, ctx: RequestContext) -> Registered:
    """Create the account and sign in through the gate, in one transaction with the messages
    the options ask for. When the address must be verified first, a verification link goes
    out and no session starts, as login would refuse one."""
    user = await new_user(rt, reg)
    if rt.settings.require_email_verification:
        welcome = replace(welcome, verify_email=True)
    allowed = await onboarding.allow(rt, user=user, welcome=welcome)
    async with rt.uow() as tx:
        await add_user(tx, user=user)
        await onboarding.queue(tx, rt, user=user, welcome=welcome, allowed=allowed)
        if gate.refusal(rt, user) is not None:
            return Registered(user=user, result=None)
        outcome = await gate.complete(tx, rt, user=user, proofs=[PASSWORD.proof], ctx=ctx)
    return Registered(user=user, result=await gate.finish(rt, outcome))


# Changes only an administrator may make, applied in the same transaction (users_admin);
# returns the names of the fields it changed.
AdminStep = Callable[[UnitOfWork, User], Awaitable[list[str]]]


async def update_profile(
    rt: Parts, *, principal: Principal, change: ProfileChange, ctx: RequestContext, also: AdminStep | None = None
) -> User:
    """Change one's own fields in one transaction. A new password needs the current one and
    ends the other sessions and every outstanding link and code; a new phone needs a recent
    sign-in (or the current password), and a current second factor when the SMS factor is on."""
    user = principal.user
    errors: list[FieldError] = []
    fields: dict[str, object] = {}
    if change.name is not None:
        fields["name"] = check_name(errors, change.name)
    if change.username is not None:
        username = check(errors, "username", normalize_username, change.username) if change.username else None
        fields["username"] = username
        fields["username_key"] = username_key(username) if username else None
    if change.phone is not None:
        phone = check(errors, "phone", normalize_phone, change.phone) if change.phone else None
        if phone != user.phone:
            fields["phone"] = phone
            fields["phone_verified"] = False
    if change.password is not None:
        if not change.current_password:
            errors.append(FieldError("currentPassword", "The current password is required to set a new one."))
        for message in rt.policy.problems(change.password, email=user.email, username=user.username):
            errors.append(FieldError("password", message))
    if errors:
        raise validation_failed(*errors)

    if change.password is not None:
        async with gate.counting(rt, ctx, subject=account(user.id)):
            await confirm_password(rt, user_id=user.id, password=change.current_password or "")
        stored = await rt.hasher.hash(change.password)
        fields["password_hash"], fields["password_scheme"] = stored.value, stored.scheme
    elif "phone" in fields and not await _sms_factor_on(rt, user_id=user.id):
        # (With the SMS factor on, the current factor's code checked below re-authenticates.)
        proof = Reauthentication(current_password=change.current_password, factor_code=change.mfa_code)
        await require_recent_sign_in(rt, principal, proof, ctx=ctx)

    async with gate.counting(rt, ctx, subject=account(user.id)):
        step = await gate.second_step(rt, user_id=user.id, code=change.mfa_code) if "phone" in fields else None
        async with rt.uow() as tx:
            if step is not None:
                await _confirm_phone_move(rt, tx, user=user, step=step)
            fresh = await user_repo.get(tx.db, user_id=user.id)
            assert fresh is not None
            try:
                await user_repo.update_fields(tx.db, user=fresh, fields=fields)
            except DuplicateUser as dup:
                raise taken(dup.field) from None
            if change.password is not None:
                await revoke_user_sessions(
                    tx, rt, user_id=user.id, keep=principal.session_id, reason="password_changed"
                )
                await one_time_repo.void(tx.db, now=utcnow(), purposes=VOIDED_BY_PASSWORD_CHANGE, user_id=user.id)
                tx.audit("password.changed", user_id=user.id)
            changed = sorted(k for k in fields if k not in {"password_hash", "password_scheme", "username_key"})
            if also is not None:
                changed = sorted({*changed, *await also(tx, fresh)})
            if changed:
                tx.audit("user.updated", user_id=user.id, fields=changed)
                tx.emit("user.updated", userId=user.id, fields=changed)
            tx.on_commit(lambda: rt.principals.drop_user(user.id))
    return fresh


async def _sms_factor_on(rt: Parts, *, user_id: str) -> bool:
    async with rt.read() as db:
        factor = await mfa_repo.get_code_factor(db, user_id=user_id)
    return factor is not None and factor.channel == SMS


async def _confirm_phone_move(rt: Parts, tx: UnitOfWork, *, user: User, step: gate.SecondStep) -> None:
    """The SMS second factor follows the phone: moving it needs a code of a current second
    factor (TOTP, a recovery code, or an SMS code sent to the current phone)."""
    factor = await mfa_repo.get_code_factor(tx.db, user_id=user.id)
    if factor is None or factor.channel != SMS:
        return
    if not step.code:
        raise validation_failed(
            FieldError("mfaCode", "Your second factor is this phone: confirm the change with a current code.")
        )
    await gate.confirm_current_factor(rt, tx, user=user, step=step)
