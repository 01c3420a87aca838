"""Administering other users (capability checks on each route)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from authgate.http.deps import Context, RuntimeDep, require_caps
from authgate.http.schemas.users import UnlockedOut
from authgate.services import users_admin
from authgate.services.principals import Principal

router = APIRouter(tags=["users"])

UserWriter = Annotated[Principal, require_caps("users:write")]


@router.post("/user/{user_id}/unlock", response_model=UnlockedOut, responses={403: {}, 404: {}})
async def unlock_user(user_id: str, admin: UserWriter, rt: RuntimeDep, ctx: Context) -> UnlockedOut:
    """Lift a lockout (too many failed sign-ins) before it ends on its own."""
    was_locked = await users_admin.unlock(rt, user_id=user_id, actor_id=admin.user_id, ctx=ctx)
    return UnlockedOut(message="Sign-in is open again for this account.", was_locked=was_locked)
