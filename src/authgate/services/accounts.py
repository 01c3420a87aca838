"""Registering and editing one's own account."""

from __future__ import annotations

from dataclasses import dataclass

from authgate.errors import ErrorCode, FieldError, conflict, validation_failed
from authgate.security.identifiers import (
    email_key,
    normalize_email,
    normalize_phone,
    normalize_username,
    username_key,
)
from authgate.security.tokens import random_token
from authgate.services import links
from authgate.services.context import RequestContext
from authgate.services.runtime import Runtime
from authgate.services.sessions import LoginResult, revoke_user_sessions, start_session
from authgate.storage.models import User
from authgate.storage.repositories import users as user_repo
from authgate.storage.repositories.users import DuplicateUser

NAME_MAX = 100


@dataclass(frozen=True)
class Registration:
    email: str
    password: str | None = None
    name: str | None = None
    username: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class ProfileChange:
    """Fields absent from the request are None and left alone; "" clears an optional field."""

    name: str | None = None
    username: str | None = None
    phone: str | None = None
    password: str | None = None
    current_password: str | None = None


def _taken(field: str) -> Exception:
    if field == "username":
        return conflict(ErrorCode.USERNAME_TAKEN, "username", "Username is already taken.")
    return conflict(ErrorCode.EMAIL_TAKEN, "email", "Email address is already registered.")


def _check(errors: list[FieldError], field: str, fn: object, raw: str) -> str | None:
    try:
        return fn(raw)  # type: ignore[operator, no-any-return]
    except ValueError as exc:
        errors.append(FieldError(field, str(exc)))
        return None


def _check_name(errors: list[FieldError], name: str | None) -> str | None:
    if name is None:
        return None
    name = name.strip()
    if len(name) > NAME_MAX:
        errors.append(FieldError("name", f"Name must be at most {NAME_MAX} characters."))
    return name or None


async def insert_user(rt: Runtime, reg: Registration, *, role: str = "user", email_verified: bool = False) -> User:
    """Check every field, refuse taken email/username (409), hash the password, insert."""
    errors: list[FieldError] = []
    email = _check(errors, "email", normalize_email, reg.email)
    username = _check(errors, "username", normalize_username, reg.username) if reg.username else None
    phone = _check(errors, "phone", normalize_phone, reg.phone) if reg.phone else None
    name = _check_name(errors, reg.name)
    if reg.password is not None:
        for message in rt.policy.problems(reg.password, email=email or reg.email, username=username):
            errors.append(FieldError("password", message))
    if errors:
        raise validation_failed(*errors)
    assert email is not None

    keys = {"email_key": email_key(email), "username_key": username_key(username) if username else None}
    async with rt.autocommit() as db:
        taken = await user_repo.exists(db, **keys)
    if taken:
        raise _taken(taken)

    # No password given: an unguessable one is set; the user signs in another way or resets it.
    password_hash = await rt.hasher.hash(reg.password if reg.password is not None else random_token())
    user = User(
        email=email,
        name=name,
        username=username,
        phone=phone,
        password_hash=password_hash,
        role=role,
        email_verified=email_verified,
        phone_verified=False,
        mfa_enabled=False,
        disabled=False,
        **keys,
    )
    try:
        async with rt.db.begin() as db:
            await user_repo.add(db, user=user)
    except DuplicateUser as dup:
        raise _taken(dup.field) from None
    return user


async def register(rt: Runtime, reg: Registration, ctx: RequestContext) -> LoginResult:
    user = await insert_user(rt, reg)
    return await start_session(rt, user=user, amr=["pwd"], ctx=ctx)


async def update_profile(rt: Runtime, *, user: User, session_id: str, change: ProfileChange) -> User:
    errors: list[FieldError] = []
    fields: dict[str, object] = {}
    if change.name is not None:
        fields["name"] = _check_name(errors, change.name)
    if change.username is not None:
        username = _check(errors, "username", normalize_username, change.username) if change.username else None
        fields["username"] = username
        fields["username_key"] = username_key(username) if username else None
    if change.phone is not None:
        phone = _check(errors, "phone", normalize_phone, change.phone) if change.phone else None
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
        async with rt.autocommit() as db:
            stored = await user_repo.get(db, user_id=user.id)
        if not await rt.hasher.verify(change.current_password or "", stored.password_hash if stored else None):
            raise validation_failed(FieldError("currentPassword", "The current password is not correct."))
        fields["password_hash"] = await rt.hasher.hash(change.password)

    try:
        async with rt.db.begin() as db:
            fresh = await user_repo.get(db, user_id=user.id)
            assert fresh is not None
            await user_repo.update_fields(db, user=fresh, fields=fields)
    except DuplicateUser as dup:
        raise _taken(dup.field) from None
    rt.principals.drop_user(user.id)
    if change.password is not None:
        # SPEC §4: a password change ends the other sessions and voids outstanding links and codes.
        await revoke_user_sessions(rt, user_id=user.id, keep=session_id)
        await links.void_outstanding(rt, user_id=user.id)
    return fresh
