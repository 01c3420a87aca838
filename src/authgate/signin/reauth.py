"""Recent proof for sensitive changes (a factor, the phone, linking a provider, deleting one's
account, adding or deleting a passkey): a stolen access token alone must not be enough to lock
the owner out.

One rule, for the API and the hosted pages. The session's latest proof of identity must be at
most `AUTHGATE_REAUTH_MAX_AGE_SECONDS` old: its sign-in (`created_at`, its `auth_time`: when
its first factor was proved; nothing moves it) or its latest re-authentication
(`reauthenticated_at`). Otherwise the request proves itself: the current password
(`currentPassword`) or a code of a current second factor (`mfaCode`); else 401
`reauthentication_required`.

A re-authentication (`/ui/reauth`: a password, a second factor's code or a passkey) also
counts, whatever that setting, for one sensitive change within `SPENDABLE_FOR`: the first
change after it spends it, by one conditional update, so two changes at once cannot both use
it. A proof sent with a change is recorded as a re-authentication that change has already
spent. A page that only shows reads the proof (`has_recent_proof`) without spending it. So
`0` asks for a proof with every change, right after a sign-in too, and a re-authentication
page that sends the user back to the change never loops.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from authgate.abuse.lockout import account
from authgate.core.parts import Parts
from authgate.core.principal import Principal
from authgate.errors import WrongSecret, invalid_credentials, invalid_token, reauthentication_required
from authgate.observability.logging import get_logger
from authgate.scope import RequestContext
from authgate.signin.gate import confirm_current_factor, counting, second_step
from authgate.storage.models import Session, utcnow
from authgate.storage.repositories import sessions as session_repo
from authgate.storage.repositories import users as user_repo
from authgate.storage.uow import UnitOfWork

log = get_logger("authgate.reauth")

SPENDABLE_FOR = timedelta(minutes=5)  # an unspent re-authentication counts this long, whatever the setting
PASSWORD = "password"  # noqa: S105 (the method a re-authentication names, not a secret)


@dataclass(frozen=True)
class Reauthentication:
    """What a request brings to re-authenticate, if anything."""

    current_password: str | None = None
    factor_code: str | None = None


def passed_second_factor(principal: Principal) -> bool:
    """Whether the session's sign-in passed a second factor (or a proof that counts as both)."""
    return len(principal.session.amr.split(",")) > 1


def _needs_factor(principal: Principal, with_second_factor: bool) -> bool:
    return with_second_factor and principal.user.mfa_enabled and not passed_second_factor(principal)


def _within_max_age(rt: Parts, moment: datetime | None, now: datetime) -> bool:
    max_age = rt.settings.reauth_max_age_seconds
    return moment is not None and max_age > 0 and moment >= now - timedelta(seconds=max_age)


def _reauth_fits(session: Session, needs_factor: bool) -> bool:
    """The session has a re-authentication, of a kind this change accepts (a change that needs
    a second factor takes none by password)."""
    return session.reauthenticated_at is not None and not (needs_factor and session.reauth_method == PASSWORD)


def _latest_proof_recent(rt: Parts, principal: Principal, now: datetime, needs_factor: bool) -> bool:
    session = principal.session
    if not needs_factor and _within_max_age(rt, session.created_at, now):
        return True
    return _reauth_fits(session, needs_factor) and _within_max_age(rt, session.reauthenticated_at, now)


def _unspent(session: Session, now: datetime) -> bool:
    at = session.reauthenticated_at
    return at is not None and session.reauth_spent_at is None and at >= now - SPENDABLE_FOR


def has_recent_proof(rt: Parts, principal: Principal, *, with_second_factor: bool = False) -> bool:
    """Whether a sensitive change would pass now without a proof of its own; spends nothing
    (for a page that only shows). `with_second_factor` as for `require_recent_sign_in`."""
    now = utcnow()
    needs_factor = _needs_factor(principal, with_second_factor)
    if _latest_proof_recent(rt, principal, now, needs_factor):
        return True
    return _reauth_fits(principal.session, needs_factor) and _unspent(principal.session, now)


async def require_recent_sign_in(
    rt: Parts,
    principal: Principal,
    proof: Reauthentication,
    *,
    ctx: RequestContext | None = None,
    with_second_factor: bool = False,
) -> None:
    """Pass when the session's latest proof (sign-in or re-authentication) is recent, or when
    this change is the first to spend an unspent re-authentication; else the current password,
    or a code of a current second factor (used up), must come with the request, and is
    recorded as a re-authentication this change spends. Wrong ones are counted.
    `with_second_factor` (adding a way in): an account with a second factor also needs a
    session that passed it, a re-authentication by one, or a code of it in the request."""
    now = utcnow()
    needs_factor = _needs_factor(principal, with_second_factor)
    if _latest_proof_recent(rt, principal, now, needs_factor):
        return
    session = principal.session
    if _reauth_fits(session, needs_factor) and _unspent(session, now) and await _spend(rt, principal, session):
        return
    if proof.current_password and not needs_factor:
        async with counting(rt, ctx, subject=account(principal.user_id)):
            await confirm_password(rt, user_id=principal.user_id, password=proof.current_password)
            async with rt.uow() as tx:
                await mark_reauthenticated(tx, rt, principal, method=PASSWORD, spent=True, ctx=ctx)
        return
    if proof.factor_code:
        async with counting(rt, ctx, subject=account(principal.user_id)):
            step = await second_step(rt, user_id=principal.user_id, code=proof.factor_code)
            async with rt.uow() as tx:
                proved = await confirm_current_factor(rt, tx, user=principal.user, step=step)
                await mark_reauthenticated(tx, rt, principal, method=proved.method, spent=True, ctx=ctx)
        return
    if needs_factor:
        raise reauthentication_required(
            "This account has a second factor: sign in with it, or send its code as mfaCode."
        )
    raise reauthentication_required()


async def _spend(rt: Parts, principal: Principal, session: Session) -> bool:
    """Use up the re-authentication this principal saw, unless another change did first."""
    assert session.reauthenticated_at is not None
    async with rt.uow() as tx:
        spent = await session_repo.spend_reauthentication(
            tx.db, session_id=session.id, seen=session.reauthenticated_at, now=utcnow()
        )
        if spent:
            tx.on_commit(lambda: rt.principals.drop_sessions([session.id]))
    if spent:
        log.info("reauthentication_spent", user_id=principal.user_id, session_id=session.id)
    return spent


async def mark_reauthenticated(
    tx: UnitOfWork, rt: Parts, principal: Principal, *, method: str, spent: bool, ctx: RequestContext | None = None
) -> None:
    """In `tx`: the session's user proved themselves again now, by `method` (`spent`: by a
    proof the change it came with uses up at once). Audited `user.reauthenticated`; the
    cached principal is dropped once `tx` commits. 401 `invalid_token` if the session ended."""
    sid = principal.session_id
    recorded = await session_repo.record_reauthentication(
        tx.db, session_id=sid, at=utcnow(), method=method, spent=spent
    )
    if not recorded:
        raise invalid_token("The session has ended.")
    tx.audit(
        "user.reauthenticated",
        user_id=principal.user_id,
        ip_address=ctx.ip_address if ctx else None,
        user_agent=ctx.user_agent if ctx else None,
        method=method,
    )
    tx.on_commit(lambda: rt.principals.drop_sessions([sid]))


async def record_reauthentication(
    rt: Parts, principal: Principal, *, ctx: RequestContext | None = None, method: str
) -> None:
    """What a re-authentication page records once it checked a proof (`method`: `password`, a
    second factor's name, `passkey`): unspent, so the next sensitive change within
    `SPENDABLE_FOR` may use it whatever `AUTHGATE_REAUTH_MAX_AGE_SECONDS`."""
    async with rt.uow() as tx:
        await mark_reauthenticated(tx, rt, principal, method=method, spent=False, ctx=ctx)


async def reauthenticate_with_password(rt: Parts, principal: Principal, *, password: str, ctx: RequestContext) -> None:
    """A re-authentication page's password: checked (counted; a wrong one is 401
    `invalid_credentials`) and recorded."""
    async with counting(rt, ctx, subject=account(principal.user_id)):
        await confirm_password(rt, user_id=principal.user_id, password=password)
        await record_reauthentication(rt, principal, ctx=ctx, method=PASSWORD)


async def reauthenticate_with_code(rt: Parts, principal: Principal, *, code: str, ctx: RequestContext) -> None:
    """A re-authentication page's code of a current second factor (TOTP, a recovery code, a
    one-time code): its try spent, checked (counted; a wrong one is 401 `invalid_mfa_code`),
    used up and recorded in one transaction."""
    async with counting(rt, ctx, subject=account(principal.user_id)):
        step = await second_step(rt, user_id=principal.user_id, code=code)
        async with rt.uow() as tx:
            proved = await confirm_current_factor(rt, tx, user=principal.user, step=step)
            await mark_reauthenticated(tx, rt, principal, method=proved.method, spent=False, ctx=ctx)


async def confirm_password(rt: Parts, *, user_id: str, password: str) -> None:
    """A signed-in user re-enters the current password; a wrong one is 401
    `invalid_credentials`, as at sign-in. Call it inside `counting`."""
    async with rt.read() as db:
        user = await user_repo.get(db, user_id=user_id)
    if not await rt.hasher.verify(password, user):
        error = invalid_credentials("The current password is not correct.")
        raise WrongSecret(error, user_id=user_id, method="password")
