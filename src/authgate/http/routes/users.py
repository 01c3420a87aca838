"""Administering users (capability checks in services/admin/users.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Response, status

from authgate.core.principal import Principal
from authgate.http.deps import Context, CurrentPrincipal, RuntimeDep
from authgate.http.openapi import problems
from authgate.http.responses import json_response
from authgate.http.schemas.accounts import CreateUserIn, DeleteUserIn, UpdateUserIn
from authgate.http.schemas.links import MessageOut
from authgate.http.schemas.sessions import AdminSessionOut
from authgate.http.schemas.users import (
    AdminUser,
    AdminUserOut,
    ImportIn,
    ImportOut,
    MfaResetOut,
    UnlockedOut,
    UserOut,
    UserPageOut,
)
from authgate.runtime.root import Runtime
from authgate.services.accounts import ProfileChange
from authgate.services.admin import imports
from authgate.services.admin import users as users_admin
from authgate.services.pagination import DEFAULT_LIMIT, MAX_LIMIT
from authgate.signin.reauth import Reauthentication

router = APIRouter(tags=["users"])
# Served after every other router (routes/__init__.py): an administrator's occasional actions
# are not tried before the hot routes on every request.
rare = APIRouter(tags=["users"])
LARGER_BODIES = (("/users/import", 64),)  # up to 1,000 rows: 64 x AUTHGATE_MAX_BODY_BYTES
REFUSALS: dict[int | str, dict[str, object]] = {403: {}, 404: {}}


def admin_out(rt: Runtime, user: AdminUser, locked_until: datetime | None) -> AdminUserOut:
    return AdminUserOut.of_admin(user, rt.roles.caps(user.role), locked_until)


async def seen_by(rt: Runtime, caller: Principal, user: AdminUser, status_code: int = 200) -> Response:
    """The administrators' view for a caller with `users:read`; anyone else, reading or changing
    their own account, gets the plain user object (no `disabled`, `passwordScheme`, `lockedUntil`)."""
    if users_admin.is_reader(rt, caller):
        locked = await users_admin.locked_until(rt, user_ids=[user.id])
        return json_response(admin_out(rt, user, locked.get(user.id)), status_code)
    return json_response(UserOut.of(user, rt.roles.caps(user.role)), status_code)


def changes(body: UpdateUserIn) -> tuple[ProfileChange, users_admin.AdminChange]:
    profile = ProfileChange(
        name=body.name,
        username=body.username,
        phone=body.phone,
        password=body.password,
        current_password=body.current_password,
        mfa_code=body.typed_code(),
    )
    admin = users_admin.AdminChange(
        role=body.role, disabled=body.disabled, email_verified=body.email_verified, phone_verified=body.phone_verified
    )
    return profile, admin


@router.get("/users", response_model=UserPageOut, responses={403: {}})
async def list_users(
    caller: CurrentPrincipal,
    rt: RuntimeDep,
    email: Annotated[str | None, Query(max_length=320)] = None,
    role: Annotated[str | None, Query(max_length=64)] = None,
    disabled: bool | None = None,
    password_scheme: Annotated[str | None, Query(alias="passwordScheme", max_length=32)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Response:
    """Needs `users:read`. `email`: part of the address, any case; `passwordScheme`: the
    accounts whose password hash is of this scheme (`none`: without a password); oldest first.
    `lockedUntil`: when a lockout of the account ends, while one lasts."""
    users_admin.require_reader(rt, caller)
    page = await users_admin.list_users(
        rt,
        email=email,
        role=role,
        disabled=disabled,
        password_scheme=password_scheme,
        cursor=cursor,
        limit=limit,
    )
    items = [admin_out(rt, u, page.locked_until.get(u.id)) for u in page.items]
    return json_response(UserPageOut(items=items, next_cursor=page.next_cursor))


@router.post("/user", status_code=status.HTTP_201_CREATED, response_model=AdminUserOut, responses={403: {}, 409: {}})
async def create_user(body: CreateUserIn, caller: CurrentPrincipal, rt: RuntimeDep) -> Response:
    """Needs `users:write`, and every capability of the role given."""
    users_admin.require_writer(rt, caller)
    user = await users_admin.create_user(
        rt,
        email=body.email,
        password=body.password,
        username=body.username,
        name=body.name,
        phone=body.phone,
        role=body.role,
        verified=body.email_verified,
        disabled=body.disabled,
        caller=caller,
    )
    return await seen_by(rt, caller, user, status.HTTP_201_CREATED)


@router.get("/user/{user_id}", response_model=AdminUserOut, responses=REFUSALS)
async def get_user(user_id: str, caller: CurrentPrincipal, rt: RuntimeDep) -> Response:
    """Oneself, or anyone with `users:read` (who sees `disabled`, `passwordScheme` and `lockedUntil` too)."""
    return await seen_by(rt, caller, await users_admin.get_user(rt, caller=caller, user_id=user_id))


@router.put("/user/{user_id}", response_model=AdminUserOut, responses=REFUSALS)
async def update_user(
    user_id: str, body: UpdateUserIn, caller: CurrentPrincipal, rt: RuntimeDep, ctx: Context
) -> Response:
    """Oneself: the profile fields. `users:write`: role, disabled, emailVerified, phoneVerified,
    and another user's name and username."""
    profile, admin = changes(body)
    user = await users_admin.update_user(rt, caller=caller, user_id=user_id, change=profile, admin=admin, ctx=ctx)
    return await seen_by(rt, caller, user)


@router.delete("/user/{user_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response, responses=REFUSALS)
async def delete_user(
    user_id: str, caller: CurrentPrincipal, rt: RuntimeDep, ctx: Context, body: DeleteUserIn | None = None
) -> Response:
    """Oneself (a recent sign-in, or `currentPassword` / `mfaCode`), or anyone with `users:write`."""
    proof = Reauthentication(
        current_password=body.current_password if body else None, factor_code=body.typed_code() if body else None
    )
    await users_admin.delete_user(rt, caller=caller, user_id=user_id, proof=proof, ctx=ctx)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/user/{user_id}/mfa", response_model=MfaResetOut, responses=REFUSALS)
async def reset_mfa(user_id: str, caller: CurrentPrincipal, rt: RuntimeDep) -> MfaResetOut:
    """Remove every second factor of a user who lost theirs (`users:write`)."""
    removed = await users_admin.reset_mfa(rt, caller=caller, user_id=user_id)
    return MfaResetOut(
        message="Second factors removed; the user signs in with the first factor alone.", removed=removed
    )


@router.post("/user/{user_id}/unlock", response_model=UnlockedOut, responses=REFUSALS)
async def unlock_user(user_id: str, caller: CurrentPrincipal, rt: RuntimeDep) -> UnlockedOut:
    """Lift a lockout (too many failed sign-ins) before it ends on its own (`users:write`)."""
    was_locked = await users_admin.unlock(rt, caller=caller, user_id=user_id)
    return UnlockedOut(message="Sign-in is open again for this account.", was_locked=was_locked)


@rare.get("/user/{user_id}/sessions", response_model=list[AdminSessionOut], responses=REFUSALS)
async def list_sessions(user_id: str, caller: CurrentPrincipal, rt: RuntimeDep) -> list[AdminSessionOut]:
    """The account's live sessions, newest first (`users:read`)."""
    return [AdminSessionOut.of_admin(row) for row in await users_admin.sessions_of(rt, caller=caller, user_id=user_id)]


@rare.delete(
    "/user/{user_id}/sessions/{session_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=REFUSALS,
)
async def revoke_session(user_id: str, session_id: str, caller: CurrentPrincipal, rt: RuntimeDep) -> Response:
    """End one session of the account at once (`users:write`): its access tokens are refused,
    its refresh token is dead."""
    await users_admin.revoke_session(rt, caller=caller, user_id=user_id, session_id=session_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@rare.delete(
    "/user/{user_id}/sessions", status_code=status.HTTP_204_NO_CONTENT, response_class=Response, responses=REFUSALS
)
async def revoke_all_sessions(user_id: str, caller: CurrentPrincipal, rt: RuntimeDep) -> Response:
    """End every session of the account at once (`users:write`)."""
    await users_admin.revoke_all_sessions(rt, caller=caller, user_id=user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@rare.post(
    "/user/{user_id}/password-reset",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=MessageOut,
    responses=problems(403, 404, 409, 429),
)
async def send_password_reset(user_id: str, caller: CurrentPrincipal, rt: RuntimeDep) -> MessageOut:
    """Mail the account the reset link of `POST /password/forgot` (`users:write`). The sending
    limit per recipient applies (429 `rate_limited`); a disabled account is a 409."""
    await users_admin.send_password_reset(rt, caller=caller, user_id=user_id)
    return MessageOut(message="A password reset link has been sent to the account's address.")


@router.post("/users/import", response_model=ImportOut, responses={403: {}, 413: {}})
async def import_users(body: ImportIn, caller: CurrentPrincipal, rt: RuntimeDep) -> Response:
    """Needs `users:write`. Up to 1,000 rows, each imported or refused on its own, in order
    (docs/guides/importing.md); `dryRun` checks every row and writes nothing. The body may be
    64 times `AUTHGATE_MAX_BODY_BYTES`."""
    outcome = await imports.import_users(rt, caller=caller, rows=body.users, dry_run=body.dry_run)
    tally = outcome.tally
    results = [{"index": r.index, "email": r.email, "status": r.status} | r.outcome() for r in outcome.results]
    out = {
        "dryRun": body.dry_run,
        "valid": tally.valid,
        "created": tally.created,
        "failed": tally.failed,
        "unverified": tally.unverified,
        "results": results,
    }
    return Response(orjson.dumps(out), media_type="application/json")
