"""Managing roles (`roles:manage`): list, create, change, delete.

Each change is one transaction with its audit entry; once it commits, this node's RoleBook
has it at once (other nodes within a second). A role whose capabilities the caller does not
all hold can be neither created, nor changed, nor deleted by them (security/capabilities.py). The
built-in roles cannot be deleted, and `admin` always carries every capability, so that an
operator cannot lock everyone out of administration over HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass

from authgate.core.parts import Parts
from authgate.errors import AuthError, ErrorCode, FieldError, conflict, forbidden, not_found, problem, validation_failed
from authgate.security.capabilities import (
    ALL,
    BUILTIN_ROLES,
    CAPS_MAX,
    ROLE_NAME,
    caps_problem,
    decode_caps,
    encode_caps,
    grants,
)
from authgate.security.text import checked_description
from authgate.storage.models import Role, utcnow
from authgate.storage.repositories import roles as role_repo
from authgate.storage.repositories.roles import DuplicateRole


@dataclass(frozen=True)
class RoleChange:
    """None: leave as it is."""

    caps: list[str] | None = None
    description: str | None = None


def _checked_caps(caps: list[str]) -> list[str]:
    errors = [FieldError("caps", problem) for cap in caps if (problem := caps_problem(cap))]
    if len(caps) > CAPS_MAX:
        errors.append(FieldError("caps", f"A role carries at most {CAPS_MAX} capabilities."))
    if errors:
        raise validation_failed(*errors)
    return sorted(set(caps))


def _may_handle(caller_caps: list[str], caps: list[str] | tuple[str, ...], what: str) -> None:
    if not grants(caller_caps, caps):
        raise forbidden(f"You cannot {what} a role with capabilities you do not hold yourself.")


async def list_roles(rt: Parts) -> list[Role]:
    async with rt.read() as db:
        return await role_repo.all_roles(db)


async def create_role(
    rt: Parts, *, caller_caps: list[str], name: str, caps: list[str], description: str | None
) -> Role:
    name = name.strip()
    if not ROLE_NAME.match(name):
        raise validation_failed(
            FieldError("name", "Lower-case letters, digits, '-' and '_', starting with a letter; at most 64.")
        )
    caps = _checked_caps(caps)
    _may_handle(caller_caps, caps, "create")
    now = utcnow()
    role = Role(name=name, caps=encode_caps(caps), description=checked_description(description))
    role.created_at = role.updated_at = now
    try:
        async with rt.uow() as tx:
            await role_repo.add(tx.db, role=role)
            tx.audit("role.created", user_id=None, role=name, caps=caps)
            tx.on_commit(lambda: rt.roles.put(role))
    except DuplicateRole:
        raise conflict(ErrorCode.ROLE_EXISTS, "name", "A role of this name exists already.") from None
    return role


async def update_role(rt: Parts, *, caller_caps: list[str], name: str, change: RoleChange) -> Role:
    caps = _checked_caps(change.caps) if change.caps is not None else None
    async with rt.uow() as tx:
        role = await role_repo.lock(tx.db, name=name)
        if role is None:
            raise not_found("No such role.")
        before = list(decode_caps(role.caps))
        if name == "admin" and caps is not None and caps != [ALL]:
            raise forbidden("The built-in admin role always carries every capability.")
        _may_handle(caller_caps, before, "change")
        if caps is not None:
            _may_handle(caller_caps, caps, "give")
            role.caps = encode_caps(caps)
        if change.description is not None:
            role.description = checked_description(change.description)
        role.updated_at = utcnow()
        await tx.db.flush()
        if caps is not None and caps != before:
            tx.audit("role.updated", user_id=None, role=name, before=before, after=caps)
        tx.on_commit(lambda: rt.roles.put(role))
    return role


async def delete_role(rt: Parts, *, caller_caps: list[str], name: str) -> None:
    """A role still held by anyone stays (409): say who should hold what instead first."""
    if name in BUILTIN_ROLES:
        raise forbidden("The built-in roles cannot be deleted.")
    async with rt.uow() as tx:
        role = await role_repo.lock(tx.db, name=name)
        if role is None:
            raise not_found("No such role.")
        _may_handle(caller_caps, decode_caps(role.caps), "delete")
        if await role_repo.held_by_anyone(tx.db, name=name):
            raise role_in_use()
        await role_repo.remove(tx.db, name=name)
        tx.audit("role.deleted", user_id=None, role=name, caps=list(decode_caps(role.caps)))
        tx.on_commit(lambda: rt.roles.drop(name))


def role_in_use() -> AuthError:
    return problem(ErrorCode.ROLE_IN_USE, "Role in use", "Users still hold this role: give them another role first.")
