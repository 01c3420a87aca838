"""Signing in with a passkey: discoverable credentials (no identifier asked; conditional UI
works), user verification required; and a passkey finishing a second step, where it is a
possession factor (user verification not asked).

Every assertion is checked before the sign-in's transaction: its challenge used up first (a
transaction of its own, whatever follows), then py_webauthn's checks, the backup-eligible flag,
and the signature counter. A counter that did not move forward is audited as a suspected clone
in a transaction of its own. The sign-in's transaction then records the new counter,
conditionally on the old one, and passes the gate as every other way in does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from authgate.abuse import lockout
from authgate.core.factors import Attempt, CheckedAssertion
from authgate.core.parts import Parts
from authgate.errors import (
    AuthError,
    FieldError,
    WrongSecret,
    invalid_credentials,
    invalid_mfa_code,
    not_found,
    validation_failed,
)
from authgate.methods.passkey import ceremony, challenges
from authgate.methods.passkey.factor import PASSKEY_METHOD
from authgate.observability.logging import get_logger
from authgate.scope import RequestContext
from authgate.security.opaque import digest
from authgate.settings import RelyingParty
from authgate.signin import gate, passkey_events
from authgate.signin.challenge import challenge_refused, pending_proofs
from authgate.signin.sessions import LoginResult
from authgate.storage.models import Passkey, User, utcnow
from authgate.storage.models.one_time import MFA_CHALLENGE, PASSKEY_LOGIN, PASSKEY_MFA
from authgate.storage.repositories import one_time as one_time_repo
from authgate.storage.repositories import passkeys as passkey_repo
from authgate.storage.repositories import users as user_repo

log = get_logger("authgate.passkeys")


@dataclass(frozen=True)
class PasskeyOptions:
    """What a ceremony starts with: the challenge's id, the browser's options, and when it ends."""

    challenge_id: str
    options: dict[str, Any]
    expires_at: datetime


def relying_party(rt: Parts) -> RelyingParty:
    """The RP from settings; 404 when passkeys are off (the public URL is an IP address)."""
    rp = rt.settings.relying_party
    if rp is None:
        raise not_found("Passkeys are not available on this server.")
    return rp


def descriptors(passkeys: list[Passkey]) -> list[ceremony.Descriptor]:
    return [ceremony.Descriptor(p.credential_id, tuple(filter(None, p.transports.split(",")))) for p in passkeys]


async def login_options(rt: Parts) -> PasskeyOptions:
    """Options for a discoverable sign-in: nothing to enumerate, user verification required."""
    rp = relying_party(rt)
    challenge = ceremony.new_challenge()
    async with rt.uow() as tx:
        issued = await challenges.issue(tx, purpose=PASSKEY_LOGIN, challenge=challenge)
    options = ceremony.authentication_options(rp, allowed=[], challenge=challenge, user_verification=True)
    return PasskeyOptions(issued.challenge_id, options, issued.expires_at)


async def login(rt: Parts, *, challenge_id: str, credential: dict[str, Any], ctx: RequestContext) -> LoginResult:
    """Sign in with a passkey: 401 `invalid_credentials` for every refused assertion (no hint of
    which check failed); a refusal for a known passkey counts against its account."""
    rp = relying_party(rt)
    taken = await challenges.take(rt, purpose=PASSKEY_LOGIN, challenge_id=challenge_id)
    credential_id = ceremony.credential_id_of(credential)
    async with rt.read() as db:
        found = await passkey_repo.with_owner(db, credential_id=credential_id) if credential_id else None
    if found is None:  # counts against nothing but the address's rate limit
        rt.metrics.logins.labels("invalid_credentials").inc()
        log.info("sign_in_failed", outcome="invalid_credentials", method=PASSKEY_METHOD.name, reason="unknown")
        raise invalid_credentials()
    passkey, user = found
    async with gate.counting(rt, ctx, subject=lockout.account(user.id)):
        asserted = await check(
            rt, rp, passkey, user, credential, challenge=taken.challenge, first_factor=True, error=invalid_credentials()
        )
        async with rt.uow() as tx:
            proof = await PASSKEY_METHOD.verify(rt, tx, user, Attempt(asserted=asserted))
            if proof is None:  # deleted, or a concurrent assertion moved the counter first
                raise refused_assertion(user.id, invalid_credentials(), "the passkey changed meanwhile")
            outcome = await gate.complete(tx, rt, user=user, proofs=[proof], ctx=ctx)
    return await gate.finish(rt, outcome)


async def check(
    rt: Parts,
    rp: RelyingParty,
    passkey: Passkey,
    owner: User,
    credential: dict[str, Any],
    *,
    challenge: bytes,
    first_factor: bool,
    error: AuthError,
) -> CheckedAssertion:
    """The assertion checked against the stored passkey of `owner` (call inside
    `gate.counting`); a refusal is WrongSecret with `error`. User verification is asked of a
    first factor only. A user handle, when the authenticator gives one, must be the owner's."""
    handle = ceremony.user_handle_of(credential)
    if handle is not None and handle != owner.passkey_handle:
        raise refused_assertion(owner.id, error, "the user handle is another account's")
    try:
        asserted = ceremony.check_assertion(
            rp, credential, challenge=challenge, public_key=passkey.public_key, user_verification=first_factor
        )
    except ceremony.CeremonyFailed as failed:
        raise refused_assertion(passkey.user_id, error, str(failed)) from None
    if asserted.backup_eligible != passkey.backup_eligible:
        raise refused_assertion(passkey.user_id, error, "the backup-eligible flag changed")
    if (passkey.sign_count or asserted.sign_count) and asserted.sign_count <= passkey.sign_count:
        await record_clone(rt, passkey, asserted.sign_count)
        raise refused_assertion(passkey.user_id, error, "the signature counter did not move forward")
    multi_factor = first_factor and rt.settings.passkey_satisfies_mfa
    return CheckedAssertion(
        passkey_id=passkey.id,
        old_count=passkey.sign_count,
        new_count=asserted.sign_count,
        backed_up=asserted.backed_up,
        proof=PASSKEY_METHOD.proof(backup_eligible=passkey.backup_eligible, multi_factor=multi_factor),
    )


async def record_clone(rt: Parts, passkey: Passkey, presented: int) -> None:
    """A genuine signature with a counter that did not move forward: two authenticators hold
    this key. Recorded in a transaction of its own (the sign-in's rolls back); the entry's
    address and agent come from the request's scope."""
    log.warning("passkey_clone_suspected", user_id=passkey.user_id, passkey=passkey.id)
    async with rt.uow() as tx:
        passkey_events.record(
            tx,
            "passkey.clone_suspected",
            user_id=passkey.user_id,
            passkey_id=passkey.id,
            storedSignCount=passkey.sign_count,
            signCount=presented,
        )


def refused_assertion(user_id: str, error: AuthError, reason: str) -> WrongSecret:
    log.info("passkey_refused", user_id=user_id, reason=reason)
    return WrongSecret(error, user_id=user_id, method=PASSKEY_METHOD.name)


async def mfa_options(rt: Parts, *, mfa_token: str) -> PasskeyOptions:
    """Options for finishing a second step with one of the account's passkeys (a possession
    factor: user verification discouraged). Spends no try of the mfaToken."""
    rp = relying_party(rt)
    async with rt.read() as db:
        pending = await one_time_repo.peek(db, purpose=MFA_CHALLENGE, digest=digest(mfa_token), now=utcnow())
        if pending is None or pending.user_id is None or pending.attempts >= pending.max_attempts:
            raise challenge_refused()
        user = await user_repo.get(db, user_id=pending.user_id)
        if user is None:
            raise challenge_refused()
        offered = [f.name for f, _ in await gate.eligible_factors(db, rt, user, pending_proofs(pending.data))]
        passkeys = await passkey_repo.of_user(db, user_id=user.id)
    if PASSKEY_METHOD.name not in offered or not passkeys:
        raise validation_failed(FieldError("method", "This second factor is not available for this sign-in."))
    challenge = ceremony.new_challenge()
    async with rt.uow() as tx:
        issued = await challenges.issue(
            tx, purpose=PASSKEY_MFA, challenge=challenge, user_id=user.id, bound_to=pending.id
        )
    options = ceremony.authentication_options(
        rp, allowed=descriptors(passkeys), challenge=challenge, user_verification=False
    )
    return PasskeyOptions(issued.challenge_id, options, issued.expires_at)


def second_step_assertion(rt: Parts, *, challenge_id: str, credential: dict[str, Any]) -> gate.Asserter:
    """For `gate.verify_challenge`: check the assertion for the pending sign-in `mfa_id` of
    `user`, with a challenge issued for that very mfaToken."""
    return partial(_second_step_assertion, rt, challenge_id=challenge_id, credential=credential)


async def _second_step_assertion(
    rt: Parts, mfa_id: str, user: User, *, challenge_id: str, credential: dict[str, Any]
) -> CheckedAssertion:
    rp = relying_party(rt)
    taken = await challenges.take(rt, purpose=PASSKEY_MFA, challenge_id=challenge_id, user_id=user.id, bound_to=mfa_id)
    credential_id = ceremony.credential_id_of(credential)
    async with rt.read() as db:
        passkey = await passkey_repo.by_credential(db, credential_id=credential_id) if credential_id else None
    if passkey is None or passkey.user_id != user.id:
        raise refused_assertion(user.id, invalid_mfa_code(), "not one of the account's passkeys")
    return await check(
        rt, rp, passkey, user, credential, challenge=taken.challenge, first_factor=False, error=invalid_mfa_code()
    )
