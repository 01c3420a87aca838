"""Re-authenticating a signed-in session with one of its account's passkeys (what a
re-authentication page offers beside the password and a second factor's code).

The challenge is for this purpose alone, bound to the session that asked for it (another
session of the same account, a sign-in or a second step cannot use it), used up by the first
verify that names it, and asks for user verification: the passkey proves its owner as at a
sign-in. The assertion goes through the same checks as every other (`signin.check`), inside
`gate.counting`, so a refused one counts toward the account's lockout; the new counter and the
re-authentication are recorded in one transaction."""

from __future__ import annotations

from typing import Any

from authgate.abuse import lockout
from authgate.core.factors import Attempt
from authgate.core.parts import Parts
from authgate.core.principal import Principal
from authgate.errors import FieldError, invalid_credentials, invalid_token, validation_failed
from authgate.methods.passkey import ceremony, challenges
from authgate.methods.passkey.factor import PASSKEY_METHOD
from authgate.methods.passkey.signin import PasskeyOptions, check, descriptors, refused_assertion, relying_party
from authgate.scope import RequestContext
from authgate.signin import gate
from authgate.signin.reauth import mark_reauthenticated
from authgate.storage.models.one_time import PASSKEY_REAUTH
from authgate.storage.repositories import passkeys as passkey_repo
from authgate.storage.repositories import users as user_repo


async def reauth_options(rt: Parts, principal: Principal) -> PasskeyOptions:
    """Options for `navigator.credentials.get()` naming the account's passkeys, user
    verification required; the challenge is bound to this session. 400 `validation_failed`
    when the account has no passkey."""
    rp = relying_party(rt)
    async with rt.read() as db:
        passkeys = await passkey_repo.of_user(db, user_id=principal.user_id)
    if not passkeys:
        raise validation_failed(FieldError("method", "This account has no passkey."))
    challenge = ceremony.new_challenge()
    async with rt.uow() as tx:
        issued = await challenges.issue(
            tx, purpose=PASSKEY_REAUTH, challenge=challenge, user_id=principal.user_id, bound_to=principal.session_id
        )
    options = ceremony.authentication_options(
        rp, allowed=descriptors(passkeys), challenge=challenge, user_verification=True
    )
    return PasskeyOptions(issued.challenge_id, options, issued.expires_at)


async def reauth_verify(
    rt: Parts, principal: Principal, challenge_id: str, credential: dict[str, Any], ctx: RequestContext
) -> None:
    """Check the assertion against this session's challenge and one of the account's
    passkeys; record its counter and the session's re-authentication (`user.reauthenticated`,
    method `passkey`). A challenge unknown, spent, expired, of another purpose or another
    session is 400 `invalid_token`; a refused assertion 401 `invalid_credentials`, counted."""
    rp = relying_party(rt)
    user_id = principal.user_id
    taken = await challenges.take(
        rt, purpose=PASSKEY_REAUTH, challenge_id=challenge_id, user_id=user_id, bound_to=principal.session_id
    )
    credential_id = ceremony.credential_id_of(credential)
    async with gate.counting(rt, ctx, subject=lockout.account(user_id)):
        async with rt.read() as db:
            user = await user_repo.get(db, user_id=user_id)
            passkey = await passkey_repo.by_credential(db, credential_id=credential_id) if credential_id else None
        if user is None:
            raise invalid_token("The session has ended.")
        if passkey is None or passkey.user_id != user_id:
            raise refused_assertion(user_id, invalid_credentials(), "not one of the account's passkeys")
        asserted = await check(
            rt, rp, passkey, user, credential, challenge=taken.challenge, first_factor=True, error=invalid_credentials()
        )
        async with rt.uow() as tx:
            if await PASSKEY_METHOD.verify(rt, tx, user, Attempt(asserted=asserted)) is None:
                raise refused_assertion(user_id, invalid_credentials(), "the passkey changed meanwhile")
            await mark_reauthenticated(tx, rt, principal, method=PASSKEY_METHOD.name, spent=False, ctx=ctx)
