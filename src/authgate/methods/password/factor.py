"""Passwords (and PINs: the name-and-PIN login's `pin` is the same credential under another name)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from authgate.abuse import lockout
from authgate.core.factors import KNOWLEDGE, Proof
from authgate.errors import WrongSecret, invalid_credentials
from authgate.security.hashing import StoredHash
from authgate.security.identifiers import email_key, username_key
from authgate.security.passwords import stored_hash
from authgate.storage.repositories import users as user_repo

if TYPE_CHECKING:
    from authgate.core.parts import Parts
    from authgate.storage.models import User
    from authgate.storage.uow import UnitOfWork


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
    ok = await rt.hasher.verify(attempt.password, user)
    if not ok or user is None:
        raise WrongSecret(invalid_credentials(), user_id=user.id if user else None, method=PASSWORD.name)
    return user


@dataclass(frozen=True)
class Rehash:
    """A hash of the password just checked, in the configured scheme, to replace the old one."""

    user_id: str
    old: StoredHash
    new: StoredHash


async def rehash(rt: Parts, attempt: PasswordAttempt, user: User) -> Rehash | None:
    """After a correct password: a new hash of it when the stored one is of another scheme or
    parameters (made in the hashing pool, before the sign-in's transaction opens)."""
    old = stored_hash(user)
    if old is None or not rt.hasher.policy.needs_rehash(old):
        return None
    return Rehash(user.id, old, await rt.hasher.hash(attempt.password))


async def replace_hash(tx: UnitOfWork, rt: Parts, change: Rehash) -> None:
    """In the transaction that records the sign-in's step: the new hash replaces the old one
    only if the account still has it (a password changed meanwhile wins; the sign-in goes on
    either way)."""
    if await user_repo.replace_hash(tx.db, user_id=change.user_id, old=change.old, new=change.new):
        tx.on_commit(lambda: rt.metrics.rehashes.labels(change.old.scheme).inc())
