"""Adding, listing, renaming and removing a signed-in user's passkeys. Adding one is a new way into the account:
it needs a recent proof of identity (and, on an account with a second factor, a session that
passed it), and the user handle is 32 random bytes, never the account's id."""

from __future__ import annotations

from typing import Any

from authgate.core.parts import Parts
from authgate.core.principal import Principal
from authgate.errors import AuthError, ErrorCode, FieldError, last_sign_in_method, not_found, problem, validation_failed
from authgate.methods.passkey import ceremony, challenges
from authgate.methods.passkey.signin import PasskeyOptions, descriptors, relying_party
from authgate.scope import RequestContext
from authgate.signin import passkey_events
from authgate.signin.reauth import Reauthentication, require_recent_sign_in
from authgate.storage.models import Passkey, User, new_id, utcnow
from authgate.storage.models.one_time import PASSKEY_REGISTER
from authgate.storage.repositories import identities as identity_repo
from authgate.storage.repositories import passkeys as passkey_repo
from authgate.storage.repositories import users as user_repo

LIMIT = 20  # passkeys per account
DEFAULT_NAME = "Passkey"


def _name_for(user: User) -> str:
    return user.email or user.username or user.phone or user.id


async def register_options(
    rt: Parts, *, principal: Principal, reauth: Reauthentication, ctx: RequestContext
) -> PasskeyOptions:
    """Options for `navigator.credentials.create()`: a discoverable, user-verified credential,
    excluding the account's passkeys; the challenge is bound to this account."""
    rp = relying_party(rt)
    await require_recent_sign_in(rt, principal, reauth, ctx=ctx, with_second_factor=True)
    user = principal.user
    challenge = ceremony.new_challenge()
    async with rt.uow() as tx:
        handle = await passkey_repo.handle_of(tx.db, user_id=user.id, new_handle=ceremony.new_handle())
        if handle is None:
            raise not_found("No such user.")
        existing = await passkey_repo.of_user(tx.db, user_id=user.id)
        issued = await challenges.issue(tx, purpose=PASSKEY_REGISTER, challenge=challenge, user_id=user.id)
    options = ceremony.registration_options(
        rp,
        rp_name=rt.settings.passkey_rp_name,
        handle=handle,
        user_name=_name_for(user),
        display_name=user.name or _name_for(user),
        existing=descriptors(existing),
        challenge=challenge,
    )
    return PasskeyOptions(issued.challenge_id, options, issued.expires_at)


async def register(
    rt: Parts, *, principal: Principal, challenge_id: str, credential: dict[str, Any], name: str | None
) -> Passkey:
    """Store the passkey the browser created, if its attestation passes every check; a check
    that fails is 400 `validation_failed` on `credential`, naming it (the caller is signed in)."""
    rp = relying_party(rt)
    taken = await challenges.take(rt, purpose=PASSKEY_REGISTER, challenge_id=challenge_id, user_id=principal.user_id)
    try:
        made = ceremony.check_registration(rp, credential, challenge=taken.challenge)
    except ceremony.CeremonyFailed as failed:
        raise validation_failed(FieldError("credential", str(failed))) from None
    now = utcnow()
    passkey = Passkey(
        id=new_id(),
        user_id=principal.user_id,
        credential_id=made.credential_id,
        public_key=made.public_key,
        sign_count=made.sign_count,
        transports=",".join(made.transports),
        aaguid=made.aaguid,
        backup_eligible=made.backup_eligible,
        backed_up=made.backed_up,
        name=name or DEFAULT_NAME,
        created_at=now,
    )
    async with rt.uow() as tx:
        if await user_repo.lock(tx.db, user_id=principal.user_id) is None:
            raise not_found("No such user.")
        if await passkey_repo.count(tx.db, user_id=principal.user_id) >= LIMIT:
            raise problem(ErrorCode.PASSKEY_LIMIT, "Too many passkeys", f"An account may have {LIMIT} passkeys.")
        try:
            await passkey_repo.add(tx.db, passkey=passkey)
        except passkey_repo.PasskeyExists:
            raise _exists() from None
        passkey_events.record(
            tx,
            "passkey.added",
            user_id=passkey.user_id,
            passkey_id=passkey.id,
            name=passkey.name,
            aaguid=passkey.aaguid,
            backupEligible=passkey.backup_eligible,
        )
    return passkey


def _exists() -> AuthError:
    return problem(ErrorCode.PASSKEY_EXISTS, "Passkey exists", "This passkey is registered already.")


async def list_passkeys(rt: Parts, *, user_id: str) -> list[Passkey]:
    async with rt.read() as db:
        return await passkey_repo.of_user(db, user_id=user_id)


async def rename(rt: Parts, *, user_id: str, passkey_id: str, name: str) -> Passkey:
    """Not audited: a name is not a security event."""
    async with rt.uow() as tx:
        renamed = await passkey_repo.rename(tx.db, user_id=user_id, passkey_id=passkey_id, name=name)
    if renamed is None:
        raise _unknown()
    return renamed


def _unknown() -> AuthError:
    return not_found("No such passkey on this account.")


async def remove(
    rt: Parts, *, principal: Principal, passkey_id: str, reauth: Reauthentication, ctx: RequestContext
) -> None:
    """Remove one of the caller's passkeys, unless it is the account's last way in (no
    password, no linked provider, no other passkey). Sessions it signed in stay."""
    await require_recent_sign_in(rt, principal, reauth, ctx=ctx)
    user_id = principal.user_id
    async with rt.uow() as tx:
        user = await user_repo.lock(tx.db, user_id=user_id)  # two removals at once cannot both pass
        if user is None or await passkey_repo.remove(tx.db, user_id=user_id, passkey_id=passkey_id) is None:
            raise _unknown()
        if user.password_hash is None and not await identity_repo.count(tx.db, user_id=user_id):
            if not await passkey_repo.count(tx.db, user_id=user_id):
                raise last_sign_in_method()
        passkey_events.removed(tx, user_id=user_id, passkey_ids=[passkey_id], reason="user")
