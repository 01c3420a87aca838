"""Administering users: listing, creating, changing, disabling, deleting them, lifting a
lockout, resetting their second factors, ending their sessions, sending them a reset link.

Who may do what (docs/users.md):
- reading someone else (their sessions too) needs `users:read`; changing, deleting, unlocking
  or resetting them, ending their sessions or sending them a reset link needs `users:write`
  and every capability their role carries (no one acts on someone more powerful than
  themselves), and giving a role needs every capability it carries;
- the admin fields (`role`, `disabled`, `emailVerified`, `phoneVerified`) are `users:write`'s
  even on one's own account, but a value equal to the current one is accepted, so that a
  client may send back the user object it read;
- only the user changes their own password, phone and email.
Each change is one transaction with its audit entries; disabling ends the user's sessions in
it, so their tokens are refused at once. The audit entries name the caller as the actor (the
request scope's, set when the caller was authenticated: authgate.scope).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from authgate.abuse.lockout import account
from authgate.core.parts import Parts
from authgate.core.principal import Principal
from authgate.errors import ErrorCode, FieldError, forbidden, not_found, problem, said, validation_failed
from authgate.methods import second_factors as mfa
from authgate.methods.link import flows as link_flows
from authgate.scope import RequestContext
from authgate.security.capabilities import decode_caps, grants, has_caps
from authgate.security.hashing import SCHEMES
from authgate.security.identifiers import normalize_username, username_key
from authgate.security.text import has_control_characters
from authgate.services import accounts
from authgate.services.accounts import ProfileChange
from authgate.services.pagination import decode_time_cursor, encode_time_cursor
from authgate.signin import passkey_events, registration
from authgate.signin.reauth import Reauthentication, require_recent_sign_in
from authgate.signin.registration import Registration, add_user, new_user
from authgate.signin.sessions import list_sessions, revoke_sessions, revoke_user_sessions
from authgate.storage.models import Passkey, Session, User
from authgate.storage.repositories import passkeys as passkey_repo
from authgate.storage.repositories import roles as role_repo
from authgate.storage.repositories import users as user_repo
from authgate.storage.repositories.users import DuplicateUser
from authgate.storage.uow import UnitOfWork

READ, WRITE = "users:read", "users:write"
NO_PASSWORD = "none"  # noqa: S105 (`GET /users?passwordScheme=none`: the accounts without a password)
ONLY_THE_USER = "Only the user can change this; send them a password reset link instead."
BY_ADMIN = "revoked_by_admin"  # the reason of the sessions an administrator ends


@dataclass(frozen=True)
class AdminChange:
    """The fields only `users:write` may change; None: not sent."""

    role: str | None = None
    disabled: bool | None = None
    email_verified: bool | None = None
    phone_verified: bool | None = None


@dataclass(frozen=True)
class UserPage:
    items: list[User]
    next_cursor: str | None
    locked_until: dict[str, datetime] = field(default_factory=dict)  # the locked ones among `items`


def _caps(rt: Parts, principal: Principal) -> list[str]:
    return rt.roles.caps(principal.user.role)


def is_reader(rt: Parts, caller: Principal) -> bool:
    """Whether the caller sees the administrators' view of accounts (`users:read`)."""
    return has_caps(_caps(rt, caller), READ)


def require_reader(rt: Parts, caller: Principal) -> None:
    if not is_reader(rt, caller):
        raise forbidden("This needs the users:read capability.")


def require_writer(rt: Parts, caller: Principal) -> None:
    if not has_caps(_caps(rt, caller), WRITE):
        raise forbidden("This needs the users:write capability.")


def _may_act_on(rt: Parts, caller: Principal, target: User) -> None:
    """`users:write`, and every capability the target's role carries."""
    require_writer(rt, caller)
    if not grants(_caps(rt, caller), rt.roles.caps(target.role)):
        raise forbidden("This user's role carries capabilities you do not hold.")


async def _role_to_give(tx: UnitOfWork, caller_caps: list[str], role: str) -> None:
    """The role exists (and stays while this transaction runs), and the caller may give it,
    judged by its capabilities as stored (a role made on another node a moment ago counts)."""
    found = await role_repo.hold(tx.db, name=role)
    if found is None:
        known = ", ".join(r.name for r in await role_repo.all_roles(tx.db))
        raise validation_failed(FieldError("role", said("Unknown role; known: %(known)s.", known=known)))
    if not grants(caller_caps, decode_caps(found.caps)):
        raise forbidden("You cannot give a role with capabilities you do not hold yourself.")


async def _may_still_act_on(tx: UnitOfWork, rt: Parts, caller: Principal, target: User) -> None:
    """`_may_act_on` inside the change's transaction, with the target's role as stored now."""
    require_writer(rt, caller)
    stored = await role_repo.hold(tx.db, name=target.role)
    if not grants(_caps(rt, caller), decode_caps(stored.caps) if stored else ()):
        raise forbidden("This user's role carries capabilities you do not hold.")


async def _hold(tx: UnitOfWork, rt: Parts, caller: Principal, user_id: str) -> User:
    """The target account, locked until `tx` ends, if the caller may still act on it."""
    locked = await user_repo.lock(tx.db, user_id=user_id)
    if locked is None:
        raise not_found("No such user.")
    await _may_still_act_on(tx, rt, caller, locked)
    return locked


async def _find(rt: Parts, user_id: str) -> User:
    async with rt.read() as db:
        user = await user_repo.get(db, user_id=user_id) if len(user_id) <= 36 else None
    if user is None:
        raise not_found("No such user.")
    return user


async def list_users(
    rt: Parts,
    *,
    email: str | None,
    role: str | None,
    disabled: bool | None,
    cursor: str | None,
    limit: int,
    password_scheme: str | None = None,
) -> UserPage:
    """Oldest first; the cursor is the last shown user's (created_at, id). `password_scheme`:
    a scheme's name, or `none` for accounts without a password."""
    errors = [
        FieldError(field, "Control characters are not allowed.")
        for field, value in (("email", email), ("role", role))
        if value is not None and has_control_characters(value)
    ]
    if password_scheme is not None and password_scheme != NO_PASSWORD and password_scheme not in SCHEMES:
        known = ", ".join([*SCHEMES, NO_PASSWORD])
        errors.append(FieldError("passwordScheme", said("Unknown scheme; known: %(known)s.", known=known)))
    if errors:
        raise validation_failed(*errors)
    after = decode_time_cursor(cursor) if cursor else None
    scheme = None if password_scheme is None else ("" if password_scheme == NO_PASSWORD else password_scheme)
    async with rt.read() as db:
        users = await user_repo.page(
            db, email_part=email, role=role, disabled=disabled, password_scheme=scheme, after=after, limit=limit + 1
        )
    more = len(users) > limit
    users = users[:limit]
    last = users[-1] if users else None
    cursor_out = encode_time_cursor(last.created_at, last.id) if more and last else None
    return UserPage(users, cursor_out, await locked_until(rt, user_ids=[u.id for u in users]))


async def locked_until(rt: Parts, *, user_ids: Sequence[str]) -> dict[str, datetime]:
    """When the lockout of each of these accounts ends, for those locked now (the
    administrators' `lockedUntil`). Read from the lockout's state (this process, or Redis) in
    one call, not from the database; 503 when that state does not answer."""
    if not user_ids:
        return {}
    now = datetime.now(UTC)
    waits = await rt.lockout.locked_for_many([account(user_id) for user_id in user_ids])
    return {u: now + timedelta(seconds=w) for u, w in zip(user_ids, waits, strict=True) if w is not None}


async def get_user(rt: Parts, *, caller: Principal, user_id: str) -> User:
    if user_id != caller.user_id:
        require_reader(rt, caller)
    return await _find(rt, user_id)


async def create_user(
    rt: Parts,
    *,
    email: str,
    password: str | None,
    username: str | None = None,
    name: str | None = None,
    phone: str | None = None,
    role: str = "user",
    verified: bool = False,
    disabled: bool = False,
    caller: Principal | None = None,
) -> User:
    """An account made by an admin (`caller`) or by the operator's CLI (no caller)."""
    reg = Registration(email=email, password=password, name=name, username=username, phone=phone)
    user = await new_user(rt, reg, role=role, email_verified=verified)
    user.disabled = disabled
    async with rt.uow() as tx:
        await _role_to_give(tx, _caps(rt, caller) if caller else ["*"], role)
        await add_user(tx, user=user)
    return user


def _admin_step(rt: Parts, caller: Principal, change: AdminChange) -> accounts.AdminStep:
    """Apply `change` to the (locked) user inside the caller's transaction: only what differs
    from the stored values counts, and that needs `users:write`."""
    caller_caps = _caps(rt, caller)

    async def apply(tx: UnitOfWork, user: User) -> list[str]:
        locked = await user_repo.lock(tx.db, user_id=user.id)
        if locked is None:
            raise not_found("No such user.")
        wanted = {
            "role": change.role,
            "disabled": change.disabled,
            "email_verified": change.email_verified,
            "phone_verified": change.phone_verified,
        }
        fields = {k: v for k, v in wanted.items() if v is not None and v != getattr(locked, k)}
        if not fields:
            return []
        if not has_caps(caller_caps, WRITE):
            raise forbidden("Changing role, disabled or verification needs the users:write capability.")
        if "role" in fields:
            await _role_to_give(tx, caller_caps, str(fields["role"]))
            tx.audit("user.role_changed", user_id=locked.id, before=locked.role, after=fields["role"])
        if "disabled" in fields:
            if fields["disabled"]:
                await revoke_user_sessions(tx, rt, user_id=locked.id, reason="user_disabled")
            tx.audit("user.disabled" if fields["disabled"] else "user.enabled", user_id=locked.id)
        await user_repo.update_fields(tx.db, user=locked, fields=fields)
        tx.on_commit(lambda: rt.principals.drop_user(locked.id))
        return list(fields)

    return apply


async def update_user(
    rt: Parts, *, caller: Principal, user_id: str, change: ProfileChange, admin: AdminChange, ctx: RequestContext
) -> User:
    """`PUT /user/{id}` and `PUT /user`: oneself through the profile rules, someone else as an
    administrator; the admin fields in the same transaction either way."""
    if user_id == caller.user_id:
        await accounts.update_profile(rt, principal=caller, change=change, ctx=ctx, also=_admin_step(rt, caller, admin))
        return await _find(rt, user_id)
    target = await _find(rt, user_id)
    _may_act_on(rt, caller, target)
    errors = [
        FieldError(field, ONLY_THE_USER)
        for field, value in (
            ("password", change.password),
            ("phone", change.phone),
            ("currentPassword", change.current_password),
            ("mfaCode", change.mfa_code),
        )
        if value is not None
    ]
    fields: dict[str, object] = {}
    if change.name is not None:
        fields["name"] = registration.check_name(errors, change.name)
    if change.username is not None:
        username = (
            registration.check(errors, "username", normalize_username, change.username) if change.username else None
        )
        fields["username"] = username
        fields["username_key"] = username_key(username) if username else None
    if errors:
        raise validation_failed(*errors)
    async with rt.uow() as tx:
        locked = await _hold(tx, rt, caller, user_id)
        try:
            await user_repo.update_fields(tx.db, user=locked, fields=fields)
        except DuplicateUser as dup:
            raise registration.taken(dup.field) from None
        changed = sorted(
            {*(k for k in fields if k != "username_key"), *await _admin_step(rt, caller, admin)(tx, locked)}
        )
        if changed:
            tx.audit("user.updated", user_id=user_id, fields=changed)
            tx.emit("user.updated", userId=user_id, fields=changed)
        tx.on_commit(lambda: rt.principals.drop_user(user_id))
    return await _find(rt, user_id)


async def delete_user(
    rt: Parts, *, caller: Principal, user_id: str, proof: Reauthentication, ctx: RequestContext
) -> None:
    """Oneself after a recent sign-in (or with the password or a current factor's code), or
    someone else with `users:write`. Their sessions end with the account."""
    if user_id == caller.user_id:
        await require_recent_sign_in(rt, caller, proof, ctx=ctx)
    else:
        _may_act_on(rt, caller, await _find(rt, user_id))
    async with rt.uow() as tx:
        locked = await user_repo.lock(tx.db, user_id=user_id)
        if locked is None:
            raise not_found("No such user.")
        if user_id != caller.user_id:
            await _may_still_act_on(tx, rt, caller, locked)
        await revoke_user_sessions(tx, rt, user_id=user_id, reason="user_deleted")
        await user_repo.delete_user(tx.db, user_id=user_id)
        tx.audit("user.deleted", user_id=user_id)
        tx.emit("user.deleted", userId=user_id)
        tx.on_commit(lambda: rt.principals.drop_user(user_id))


async def reset_mfa(rt: Parts, *, caller: Principal, user_id: str) -> list[str]:
    """Remove every second factor of someone who lost them; they sign in with their first
    factor alone until they set up a new one."""
    _may_act_on(rt, caller, await _find(rt, user_id))
    async with rt.uow() as tx:
        await _hold(tx, rt, caller, user_id)
        removed = await mfa.reset_factors(tx, rt, user_id=user_id)
        tx.audit("mfa.reset", user_id=user_id, factors=removed)
        if removed:
            tx.emit("mfa.disabled", userId=user_id, factors=removed, reset=True)
    return removed


async def passkeys_of(rt: Parts, *, caller: Principal, user_id: str) -> list[Passkey]:
    require_reader(rt, caller)
    await _find(rt, user_id)
    async with rt.read() as db:
        return await passkey_repo.of_user(db, user_id=user_id)


async def remove_passkey(rt: Parts, *, caller: Principal, user_id: str, passkey_id: str) -> None:
    """Remove a passkey of someone who lost the device it is on; the last one too (the user's
    own removal keeps a last way in)."""
    _may_act_on(rt, caller, await _find(rt, user_id))
    async with rt.uow() as tx:
        await _hold(tx, rt, caller, user_id)
        if await passkey_repo.remove(tx.db, user_id=user_id, passkey_id=passkey_id) is None:
            raise not_found("No such passkey on this account.")
        passkey_events.removed(tx, user_id=user_id, passkey_ids=[passkey_id], reason="admin")


async def unlock(rt: Parts, *, caller: Principal, user_id: str) -> bool:
    """Lift the account's lockout and forget its failed sign-ins; True if it was locked."""
    _may_act_on(rt, caller, await _find(rt, user_id))
    async with rt.uow() as tx:  # a lockout store that does not answer leaves no audit entry
        await _hold(tx, rt, caller, user_id)
        was_locked = await rt.lockout.unlock(account(user_id))
        tx.audit("user.unlocked", user_id=user_id, wasLocked=was_locked)
        tx.emit("user.unlocked", userId=user_id, wasLocked=was_locked)
    return was_locked


async def sessions_of(rt: Parts, *, caller: Principal, user_id: str) -> list[Session]:
    """The account's live sessions, newest first (`users:read`)."""
    require_reader(rt, caller)
    await _find(rt, user_id)
    live = await list_sessions(rt, user_id=user_id)
    return sorted(live, key=lambda s: (s.created_at, s.id), reverse=True)


async def revoke_session(rt: Parts, *, caller: Principal, user_id: str, session_id: str) -> None:
    """End one session of the account at once: its access tokens are refused by authgate, its
    refresh token is dead. Someone else's, an unknown or an ended session is a 404."""
    _may_act_on(rt, caller, await _find(rt, user_id))
    async with rt.uow() as tx:
        await _hold(tx, rt, caller, user_id)
        if not await revoke_sessions(tx, rt, session_ids=[session_id], user_id=user_id, reason=BY_ADMIN):
            raise not_found("No such session.")


async def revoke_all_sessions(rt: Parts, *, caller: Principal, user_id: str) -> list[str]:
    """End every session of the account at once; the ids of those that were live."""
    _may_act_on(rt, caller, await _find(rt, user_id))
    async with rt.uow() as tx:
        await _hold(tx, rt, caller, user_id)
        return await revoke_user_sessions(tx, rt, user_id=user_id, reason=BY_ADMIN)


async def send_password_reset(rt: Parts, *, caller: Principal, user_id: str) -> None:
    """Mail the account the reset link `POST /password/forgot` sends (the same flow: link,
    lifetime, sending limits, 429 `rate_limited` over them), recorded as
    `password.reset_requested` in the transaction that queues it. A disabled account gets no
    link from the forgot flow, so here it is a 409 rather than a mail never sent."""
    target = await _find(rt, user_id)
    _may_act_on(rt, caller, target)
    if target.disabled:
        raise problem(ErrorCode.CONFLICT, "Conflict", "The account is disabled: enable it before a reset.")

    async def record(tx: UnitOfWork, user: User | None) -> None:
        if user is None or user.id != user_id:  # deleted, disabled or given another address meanwhile
            raise not_found("No such user.")
        await _hold(tx, rt, caller, user_id)
        tx.audit("password.reset_requested", user_id=user_id)

    await link_flows.request_link(rt, purpose=link_flows.RESET_PASSWORD, email=target.email, also=record)
