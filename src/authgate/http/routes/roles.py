"""Roles and the capabilities they carry."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from authgate.core.principal import Principal
from authgate.errors import forbidden
from authgate.http.deps import CurrentPrincipal, RuntimeDep, require_caps
from authgate.http.schemas.roles import RoleChangeIn, RoleIn, RoleOut, RolesOut
from authgate.runtime.root import Runtime
from authgate.security.capabilities import has_caps
from authgate.services.admin import roles as roles_admin

router = APIRouter(tags=["roles"])

RoleManager = Annotated[Principal, require_caps("roles:manage")]
READERS = ("roles:manage", "users:read")


async def role_reader(principal: CurrentPrincipal, rt: RuntimeDep) -> Principal:
    """Listing roles serves those who manage them and those who assign them to users."""
    granted = rt.roles.caps(principal.user.role)
    if not any(has_caps(granted, cap) for cap in READERS):
        raise forbidden("This needs the roles:manage or the users:read capability.")
    return principal


def _caps(rt: Runtime, principal: Principal) -> list[str]:
    return rt.roles.caps(principal.user.role)


@router.get("/roles", response_model=RolesOut, responses={403: {}})
async def list_roles(_reader: Annotated[Principal, Depends(role_reader)], rt: RuntimeDep) -> RolesOut:
    return RolesOut(items=[RoleOut.of(role) for role in await roles_admin.list_roles(rt)])


@router.post("/roles", status_code=status.HTTP_201_CREATED, response_model=RoleOut, responses={403: {}, 409: {}})
async def create_role(body: RoleIn, manager: RoleManager, rt: RuntimeDep) -> RoleOut:
    role = await roles_admin.create_role(
        rt, caller_caps=_caps(rt, manager), name=body.name, caps=body.caps, description=body.description
    )
    return RoleOut.of(role)


@router.put("/roles/{name}", response_model=RoleOut, responses={403: {}, 404: {}})
async def update_role(name: str, body: RoleChangeIn, manager: RoleManager, rt: RuntimeDep) -> RoleOut:
    change = roles_admin.RoleChange(caps=body.caps, description=body.description)
    return RoleOut.of(await roles_admin.update_role(rt, caller_caps=_caps(rt, manager), name=name, change=change))


@router.delete(
    "/roles/{name}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses={403: {}, 404: {}, 409: {}},
)
async def delete_role(name: str, manager: RoleManager, rt: RuntimeDep) -> Response:
    await roles_admin.delete_role(rt, caller_caps=_caps(rt, manager), name=name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
