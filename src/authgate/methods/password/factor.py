"""Passwords (and PINs: the name-and-PIN login's `pin` is the same credential under another name)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from authgate.abuse import lockout
from authgate.core.factors import KNOWLEDGE, Proof
from authgate.errors import WrongSecret, invalid_credentials
from authgate.security.identifiers import email_key, username_key
from authgate.storage.repositories import users as user_repo

if TYPE_CHECKING:
    from authgate.core.parts import Parts
    from authgate.storage.models import User


class PasswordMethod:
    name = "password"
    first_factor = True
    second_factor = False
    proof = Proof(method="password", amr="pwd", channel=KNOWLEDGE)


PASSWORD = PasswordMethod()


@dataclass(frozen=True)
class PasswordAttempt:
    """Exactly one of `email` (already normalised) or `username` is set."""

    password: str
    email: str | None = None
    username: str | None = None


async def find(rt: Parts, attempt: PasswordAttempt) -> User | None:
    """The account the identifier names, if any."""
    async with rt.read() as db:
        if attempt.email is not None:
            return await user_repo.get_by_email(db, email_key=email_key(attempt.email))
        return await user_repo.get_by_username(db, username_key=username_key(attempt.username or ""))


def subject(attempt: PasswordAttempt, user: User | None) -> str:
    """Whose failures a wrong password counts against: the account, else the identifier."""
    user_id = user.id if user is not None else None
    if attempt.email is not None:
        return lockout.subject(user_id, kind="email", key=email_key(attempt.email))
    return lockout.subject(user_id, kind="username", key=username_key(attempt.username or ""))


async def verify(rt: Parts, attempt: PasswordAttempt, user: User | None) -> User:
    """The account (from `find`) if the password opens it. Unknown accounts are checked
    against a dummy hash: same path, same time, same answer (WrongSecret → 401
    invalid_credentials)."""
    ok = await rt.hasher.verify(attempt.password, user.password_hash if user else None)
    if not ok or user is None:
        raise WrongSecret(invalid_credentials(), user_id=user.id if user else None, method=PASSWORD.name)
    return user
