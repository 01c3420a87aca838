"""The sign-in gate: every way in ends here, register included, and nothing else starts a
session.

A sign-in is one unit of work. The first factor's own step (a link used up, a code matched, a
password checked) runs first; then `complete` enforces, in this order: lockout, disabled
accounts, required email verification, and, when the account has a second factor, the
second step, which must be a different method and come through a different channel than the
first (a mailbox cannot be both factors). Only then does the session start, with the audit
entry and the `user.login` event in the same transaction.

Every check of a secret runs inside `counting`, which asks the lockout first and, when the
check raises `WrongSecret`, counts the failure against the account (or the identifier that
names none) and records it in one place (metrics, log, audit trail), then lets the public
error leave. A sign-in that needs its second step commits what it did (a used-up link, the
new challenge) and then answers `mfa_required`; one that starts a session forgets the
account's failures (`finish`).
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from authgate import captcha
from authgate.abuse import lockout
from authgate.core.factors import Attempt, CheckedAssertion, Proof, SecondFactor
from authgate.core.parts import Parts
from authgate.errors import (
    AuthError,
    FieldError,
    WrongSecret,
    account_disabled,
    email_not_verified,
    invalid_credentials,
    invalid_mfa_code,
    invalid_token,
    mfa_required,
    second_factor_unavailable,
    validation_failed,
)
from authgate.observability.logging import get_logger
from authgate.scope import RequestContext
from authgate.signin.challenge import challenge_refused, charge_challenge, issue_challenge
from authgate.signin.sessions import LoginResult, start_session
from authgate.storage.models import User, utcnow
from authgate.storage.repositories import one_time as one_time_repo
from authgate.storage.repositories import users as user_repo
from authgate.storage.uow import UnitOfWork

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

log = get_logger("authgate.signin")


@dataclass(frozen=True)
class SecondStep:
    """What the request brings for the second factor: a code, maybe naming its method, or a
    passkey's assertion checked already; and the challenge it answers (`/mfa/verify`), already
    charged one try. Made by `second_step`, which spends the code's own tries first."""

    code: str | None = None
    method: str | None = None
    challenge_id: str | None = None
    charged: str | None = None  # the one-time code `code` matched (SecondFactor.charge)
    asserted: CheckedAssertion | None = None

    @property
    def answered(self) -> bool:
        return bool(self.code) or self.asserted is not None


async def second_step(
    rt: Parts,
    *,
    user_id: str,
    code: str | None,
    method: str | None = None,
    challenge_id: str | None = None,
    only: set[str] | None = None,
) -> SecondStep:
    """Before the sign-in's transaction: every factor the code may be for (`method`, else
    those in `only`, else all) spends the try it costs, committed whatever follows; a wrong
    code is then counted even though the transaction that checks it rolls back."""
    charged = None
    if code:
        for factor in rt.methods.second:
            if (method is None or factor.name == method) and (only is None or factor.name in only):
                charged = charged or await factor.charge(rt, user_id=user_id, code=code)
    return SecondStep(code=code, method=method, challenge_id=challenge_id, charged=charged)


@dataclass(frozen=True)
class MfaPending:
    token: str
    methods: list[str]


Outcome = LoginResult | MfaPending


@asynccontextmanager
async def counting(rt: Parts, ctx: RequestContext | None = None, *, subject: str) -> AsyncIterator[None]:
    """Around any step that checks a secret of `subject` (an account, or an identifier that
    names none: `abuse/lockout.py`). The check runs only if the lockout admits it (429
    `account_locked` otherwise); a `WrongSecret` is counted and recorded, then leaves as its
    public error. Whatever the failed step had written is rolled back by then; the record is
    written in a transaction of its own."""
    try:
        await rt.lockout.admit(subject)
    except AuthError as refused:  # account_locked, or the lockout's state out of reach
        rt.metrics.logins.labels(refused.code.value).inc()
        raise
    try:
        yield
    except WrongSecret as wrong:
        locked_for = await rt.lockout.failed(subject)  # ends the check as a failure
        await record_failure(rt, wrong, ctx=ctx, locked_for=locked_for)
        raise wrong.error from None
    except BaseException:
        await rt.lockout.release(subject)
        raise
    await rt.lockout.release(subject)


async def record_failure(
    rt: Parts, wrong: WrongSecret, *, ctx: RequestContext | None, locked_for: float | None = None
) -> None:
    """The one place a failed check of a secret is recorded: a wrong password, a wrong
        second-factor code wherever it is entered, a wrong one-time code, a wrong current
        password; and the lockout this failure started, if it started one. The client's address
    counts toward asking it for a CAPTCHA (captcha/suspicion.py)."""
    user_id, method = wrong.user_id, wrong.method
    rt.metrics.logins.labels(wrong.error.code.value).inc()
    log.info("sign_in_failed", outcome=wrong.error.code.value, method=method, user_id=user_id)
    where = {"ip_address": ctx.ip_address if ctx else None, "user_agent": ctx.user_agent if ctx else None}
    async with rt.uow() as tx:
        tx.audit("user.login_failed", user_id=user_id, **where, method=method)
        tx.emit("user.login_failed", userId=user_id, method=method)
        if locked_for is not None:
            seconds = math.ceil(locked_for)
            log.warning("account_locked", user_id=user_id, seconds=seconds)
            tx.audit("user.locked", user_id=user_id, **where, seconds=seconds)
            if user_id is not None:  # an identifier without an account has no one to tell
                tx.emit("user.locked", userId=user_id, seconds=seconds)
    await captcha.note_failure(rt, ctx.ip_address if ctx else None)


async def subject_of(rt: Parts, *, kind: str, key: str) -> str:
    """Whose failures a check of a secret counts against: the account this identifier names
    (`kind` is `email` or `username` with its key, or `phone` as E.164), else the identifier."""
    async with rt.read() as db:
        if kind == "email":
            user = await user_repo.get_by_email(db, email_key=key)
        elif kind == "username":
            user = await user_repo.get_by_username(db, username_key=key)
        else:
            user = await user_repo.find_by_phone(db, phone=key, verified=True)
    return lockout.subject(user.id if user is not None else None, kind=kind, key=key)


def refusal(rt: Parts, user: User) -> Exception | None:
    """Why this account may not start a session now, if it may not."""
    if user.disabled:
        return account_disabled()
    if rt.settings.require_email_verification and not user.email_verified:
        return email_not_verified()
    return None


async def complete(
    tx: UnitOfWork,
    rt: Parts,
    *,
    user: User,
    proofs: list[Proof],
    ctx: RequestContext,
    second: SecondStep | None = None,
) -> Outcome:
    """Finish a sign-in whose first factor passed (see the module docstring). The account is
    read again inside the transaction: a password check took its time, and the account may
    have been disabled or given a factor meanwhile."""
    fresh = await user_repo.get(tx.db, user_id=user.id)
    if fresh is None:  # deleted meanwhile
        raise invalid_credentials()
    user = fresh
    await rt.lockout.refuse_if_locked(lockout.account(user.id))
    refused = refusal(rt, user)
    if refused is not None:
        rt.metrics.logins.labels("refused").inc()
        raise refused
    if await needs_second_step(tx.db, rt, user, proofs):
        eligible = await eligible_factors(tx.db, rt, user, proofs)
        if not eligible:
            raise second_factor_unavailable()
        if second is None or not second.answered:
            token = await issue_challenge(tx, rt, user=user, proofs=proofs)
            return MfaPending(token=token, methods=[f.name for f, _ in eligible])
        proofs = [*proofs, await check_second_factor(rt, tx, user=user, factors=eligible, step=second)]
    if second is not None and second.challenge_id is not None:
        if not await one_time_repo.consume(tx.db, secret_id=second.challenge_id, now=utcnow()):
            raise challenge_refused()
    amr = [p.amr for p in proofs] + (["mfa"] if any(p.multi_factor for p in proofs) else [])
    result = await start_session(tx, rt, user=user, amr=amr, ctx=ctx)
    methods = [p.method for p in proofs]
    tx.audit("user.login", user_id=user.id, ip_address=ctx.ip_address, user_agent=ctx.user_agent, methods=methods)
    tx.emit("user.login", userId=user.id, sessionId=result.session_id, methods=methods)
    tx.on_commit(lambda: rt.metrics.logins.labels("success").inc())
    return result


async def needs_second_step(db: AsyncSession, rt: Parts, user: User, proofs: list[Proof]) -> bool:
    """The account has a factor that switches MFA on, and no proof so far counts as both."""
    if any(p.multi_factor for p in proofs):
        return False
    return any([await f.enrolled(db, user) for f in rt.methods.second if f.enables_mfa])


async def eligible_factors(
    db: AsyncSession, rt: Parts, user: User, proofs: list[Proof]
) -> list[tuple[SecondFactor, Proof]]:
    """The account's second factors that may finish a sign-in whose first factor gave `proofs`:
    another method, through another channel (`mfaMethods`, in the order of `rt.methods.second`)."""
    channels, first = {p.channel for p in proofs}, {p.method for p in proofs}
    return [
        (factor, proof)
        for factor in rt.methods.second
        if (proof := await factor.enrolled(db, user)) and proof.channel not in channels and proof.method not in first
    ]


async def finish(rt: Parts, outcome: Outcome) -> LoginResult:
    """After the sign-in's transaction committed: the session (the account's failed checks
    are forgotten), or `mfa_required` (they are not: the second step is still to come)."""
    if isinstance(outcome, MfaPending):
        rt.metrics.logins.labels("mfa_required").inc()
        raise mfa_required(outcome.token, outcome.methods)
    await rt.lockout.succeeded(lockout.account(outcome.user.id))
    return outcome


async def check_second_factor(
    rt: Parts,
    tx: UnitOfWork,
    *,
    user: User,
    factors: list[tuple[SecondFactor, Proof]],
    step: SecondStep,
) -> Proof:
    """The proof of the factor that accepts (and uses up) the code; otherwise WrongSecret:
    `invalid_mfa_code` (401)."""
    if step.method is not None:
        factors = [(f, p) for f, p in factors if f.name == step.method]
        if not factors:
            raise validation_failed(FieldError("method", "This second factor is not available for this sign-in."))
    if step.answered:
        attempt = Attempt(code=step.code, charged=step.charged, asserted=step.asserted)
        for factor, _ in factors:
            if proof := await factor.verify(rt, tx, user, attempt):
                return proof
    raise WrongSecret(invalid_mfa_code(), user_id=user.id, method="second_factor")


async def confirm_current_factor(
    rt: Parts, tx: UnitOfWork, *, user: User, step: SecondStep, only: set[str] | None = None
) -> Proof:
    """A signed-in user proves a second factor they have now (to turn one off, or to move
    the SMS factor): any enrolled factor, or only those named in `only`. `step` comes from
    `second_step`, called before `tx` with the same `only`."""
    factors = [
        (f, p) for f in rt.methods.second if (only is None or f.name in only) and (p := await f.enrolled(tx.db, user))
    ]
    return await check_second_factor(rt, tx, user=user, factors=factors, step=step)


# Checks a passkey's assertion for the pending sign-in (its mfaToken row's id) of the user.
Asserter = Callable[[str, User], Awaitable[CheckedAssertion]]


async def verify_challenge(
    rt: Parts,
    *,
    mfa_token: str,
    code: str | None,
    method: str | None,
    ctx: RequestContext,
    assertion: Asserter | None = None,
) -> LoginResult:
    """Finish a sign-in that answered `mfa_required`: one try is charged to the token, then
    the gate checks the code or the passkey's `assertion` (against the factors independent of
    the first one) and uses the token up, in the transaction that starts the session."""
    challenge = await charge_challenge(rt, mfa_token)
    async with rt.read() as db:
        user = await user_repo.get(db, user_id=challenge.user_id)
    if user is None:
        raise invalid_token()
    async with counting(rt, ctx, subject=lockout.account(user.id)):
        if assertion is not None:
            asserted = await assertion(challenge.id, user)
            step = SecondStep(method=method, challenge_id=challenge.id, asserted=asserted)
        else:
            step = await second_step(rt, user_id=user.id, code=code, method=method, challenge_id=challenge.id)
        async with rt.uow() as tx:
            outcome = await complete(tx, rt, user=user, proofs=challenge.proofs, ctx=ctx, second=step)
    return await finish(rt, outcome)
