"""A new account: its fields checked, its password hashed outside any transaction, then stored
with its audit entry and event. Every way an account comes to be (registration, a first
sign-in through a provider, an administrator) goes through here."""

from __future__ import annotations

from dataclasses import dataclass

from authgate.core.parts import Parts
from authgate.errors import ErrorCode, FieldError, conflict, said, validation_failed
from authgate.security.identifiers import (
    email_key,
    normalize_email,
    normalize_phone,
    normalize_username,
    username_key,
)
from authgate.storage.models import User
from authgate.storage.repositories import users as user_repo
from authgate.storage.repositories.users import DuplicateUser
from authgate.storage.uow import UnitOfWork

NAME_MAX = 100


@dataclass(frozen=True)
class Registration:
    email: str
    password: str | None = None
    name: str | None = None
    username: str | None = None
    phone: str | None = None


def taken(field: str) -> Exception:
    if field == "username":
        return conflict(ErrorCode.USERNAME_TAKEN, "username", "Username is already taken.")
    return conflict(ErrorCode.EMAIL_TAKEN, "email", "Email address is already registered.")


def check(errors: list[FieldError], field: str, fn: object, raw: str) -> str | None:
    try:
        return fn(raw)  # type: ignore[operator, no-any-return]
    except ValueError as exc:
        errors.append(FieldError(field, exc.args[0]))  # a said() (security/identifiers.py)
        return None


def check_name(errors: list[FieldError], name: str | None) -> str | None:
    if name is None:
        return None
    name = name.strip()
    if len(name) > NAME_MAX:
        errors.append(FieldError("name", said("Name must be at most %(maximum)s characters.", maximum=NAME_MAX)))
    return name or None


async def new_user(rt: Parts, reg: Registration, *, role: str = "user", email_verified: bool = False) -> User:
    """Check every field, refuse a taken email/username (409), hash the password (outside any
    transaction); the user is not stored yet (`add_user`)."""
    errors: list[FieldError] = []
    email = check(errors, "email", normalize_email, reg.email)
    username = check(errors, "username", normalize_username, reg.username) if reg.username else None
    phone = check(errors, "phone", normalize_phone, reg.phone) if reg.phone else None
    name = check_name(errors, reg.name)
    if reg.password is not None:
        for message in rt.policy.problems(reg.password, email=email or reg.email, username=username):
            errors.append(FieldError("password", message))
    if errors:
        raise validation_failed(*errors)
    assert email is not None

    keys = {"email_key": email_key(email), "username_key": username_key(username) if username else None}
    async with rt.read() as db:
        in_use = await user_repo.exists(db, **keys)
    if in_use:
        raise taken(in_use)

    # No password given: none is recorded (no one knows one), so the account signs in another
    # way, or sets a first password through a reset link.
    stored = await rt.hasher.hash(reg.password) if reg.password is not None else None
    return User(
        email=email,
        name=name,
        username=username,
        phone=phone,
        password_hash=stored.value if stored else None,
        password_scheme=stored.scheme if stored else None,
        role=role,
        email_verified=email_verified,
        phone_verified=False,
        mfa_enabled=False,
        disabled=False,
        **keys,
    )


async def add_user(tx: UnitOfWork, *, user: User, actor_id: str | None = None) -> None:
    """Store a user from `new_user` (a race on email or username is a 409, not a 500)."""
    try:
        await user_repo.add(tx.db, user=user)
    except DuplicateUser as dup:
        raise taken(dup.field) from None
    tx.audit("user.created", user_id=user.id, actor_id=actor_id)
    tx.emit("user.created", userId=user.id, email=user.email)
