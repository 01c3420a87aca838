"""Proof of an address: signing in through a mailbox (a magic link, an email code) proves it,
and the first such proof claims an account whose address was never verified."""

from __future__ import annotations

from authgate.core.parts import Parts
from authgate.signin import passkey_events
from authgate.signin.sessions import revoke_user_sessions
from authgate.storage.models import User, utcnow
from authgate.storage.models.one_time import (
    CODE_EXCHANGE,
    CODE_LOGIN,
    CODE_MFA,
    MAGIC_LINK,
    MFA_CHALLENGE,
    OAUTH_STATE,
    PASSKEY_MFA,
    PASSKEY_REAUTH,
    PASSKEY_REGISTER,
    RESET_PASSWORD,
)
from authgate.storage.repositories import identities as identity_repo
from authgate.storage.repositories import mfa as mfa_repo
from authgate.storage.repositories import one_time as one_time_repo
from authgate.storage.repositories import passkeys as passkey_repo
from authgate.storage.repositories import users as user_repo
from authgate.storage.uow import UnitOfWork


async def prove_address(tx: UnitOfWork, rt: Parts, *, user_id: str, email_key: str) -> User | None:
    """The mailbox of `email_key` was just proved by signing in through it (a magic link, an
    email code). The account, if it still has that address; None otherwise.

    The first such proof claims an account whose address was never verified: whoever
    registered it may not be its owner, so the password set before is discarded, every
    second factor, passkey and linked provider removed, every session revoked and every
    outstanding link, code, provider flow and passkey challenge voided (pre-registration
    takeover). A later proof only confirms the address."""
    now = utcnow()
    if await user_repo.claim(tx.db, user_id=user_id, email_key=email_key, now=now):
        await mfa_repo.delete_all_factors(tx.db, user_id=user_id)
        await identity_repo.remove_all(tx.db, user_id=user_id)
        planted = await passkey_repo.remove_all(tx.db, user_id=user_id)
        passkey_events.removed(tx, user_id=user_id, passkey_ids=planted, reason="account_claimed")
        await revoke_user_sessions(tx, rt, user_id=user_id, reason="account_claimed")
        purposes = (
            *(RESET_PASSWORD, MAGIC_LINK, CODE_LOGIN, CODE_MFA, MFA_CHALLENGE, OAUTH_STATE, CODE_EXCHANGE),
            *(PASSKEY_REGISTER, PASSKEY_MFA, PASSKEY_REAUTH),
        )
        await one_time_repo.void(tx.db, now=now, purposes=purposes, user_id=user_id)
        tx.audit("account.claimed", user_id=user_id)
    elif not await user_repo.mark_email_verified(tx.db, user_id=user_id, email_key=email_key, now=now):
        return None
    tx.on_commit(lambda: rt.principals.drop_user(user_id))
    return await user_repo.get(tx.db, user_id=user_id)
