"""Six-digit one-time codes by SMS or email: sending them, signing in with one, and verifying
a phone or an address with one. (The code as a second factor is `methods/code/factor.py`; enrolling
it, `methods/totp/enrol.py`.)

A code lives 10 minutes, allows 5 tries and works once: each check first spends a try
(committed at once), then compares, then the right code is used up in the transaction that
acts on it. Sending a new code for the same (purpose, destination) voids the previous one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from authgate.abuse.lockout import account
from authgate.core.parts import Parts
from authgate.delivery.base import EMAIL, SMS
from authgate.delivery.compose import Allowed, allow_message, message_row
from authgate.delivery.outbox import suppressed
from authgate.delivery.templates import lifetime_words
from authgate.errors import (
    AuthError,
    ErrorCode,
    FieldError,
    WrongSecret,
    invalid_credentials,
    invalid_mfa_code,
    said,
    validation_failed,
)
from authgate.methods.code.factor import CODE
from authgate.scope import RequestContext
from authgate.security.codes import normalize_code
from authgate.security.identifiers import email_key, normalize_email, normalize_phone
from authgate.security.opaque import digest
from authgate.signin import gate, one_time
from authgate.signin.address import prove_address
from authgate.signin.challenge import challenge_refused
from authgate.signin.sessions import LoginResult
from authgate.storage.models import User, utcnow
from authgate.storage.models.one_time import CODE_LOGIN, CODE_MFA, CODE_VERIFY, MFA_CHALLENGE
from authgate.storage.repositories import mfa as mfa_repo
from authgate.storage.repositories import one_time as one_time_repo
from authgate.storage.repositories import outbox as outbox_repo
from authgate.storage.repositories import users as user_repo
from authgate.storage.uow import UnitOfWork

# What the API calls a code's purpose, and what the one-time store does.
LOGIN = "login"
VERIFY = "verify"
MFA = "mfa"
STORED_PURPOSE = {LOGIN: CODE_LOGIN, VERIFY: CODE_VERIFY, MFA: CODE_MFA}
CHANNELS = (SMS, EMAIL)
LIFETIME = timedelta(minutes=10)
MAX_TRIES = 5
PHRASES = {LOGIN: "to sign in", VERIFY: "to confirm this address", MFA: "to confirm it is you"}


def invalid_code(purpose: str) -> AuthError:
    """One answer for a wrong, used, expired or exhausted code, per purpose: a sign-in fails as
    bad credentials (401), enrolling a factor as a bad MFA code (401), verifying as 400."""
    if purpose == LOGIN:
        return invalid_credentials()
    if purpose == MFA:
        return invalid_mfa_code()
    return AuthError(ErrorCode.INVALID_TOKEN, 400, "Invalid code", "The code is wrong, used up or expired.")


def _field(channel: str) -> str:
    return "phone" if channel == SMS else "email"


def destination_of(channel: str, *, phone: str | None, email: str | None) -> str | None:
    """The normalised phone (sms) or address (email) the body names, or None if it names none."""
    raw = phone if channel == SMS else email
    if raw is None or raw == "":
        return None
    try:
        return normalize_phone(raw) if channel == SMS else normalize_email(raw)
    except ValueError as exc:
        raise validation_failed(FieldError(_field(channel), exc.args[0])) from None  # a said()


def stored_address(channel: str, destination: str) -> str:
    """How a destination is kept and looked up: addresses by their key, phones as E.164."""
    return email_key(destination) if channel == EMAIL else destination


def own_destination(channel: str, caller: User, given: str | None) -> str:
    """An authenticated caller's codes go to the caller's own phone or address only."""
    field = _field(channel)
    own = caller.phone if channel == SMS else caller.email
    if own is None:
        raise validation_failed(FieldError(field, "Your account has no phone number."))
    if given is not None and stored_address(channel, given) != stored_address(channel, own):
        own_only = (
            said("Codes can only be sent to your own phone.")
            if field == "phone"
            else said("Codes can only be sent to your own email.")
        )
        raise validation_failed(FieldError(field, own_only))
    return own


def _required(channel: str) -> AuthError:
    return validation_failed(FieldError(_field(channel), "This field is required."))


async def _recipient(
    db: AsyncSession, *, channel: str, purpose: str, destination: str | None, caller: User | None
) -> tuple[User, str] | None:
    """Which account gets a code, and where; None sends nothing (the answer stays the same)."""
    if caller is not None:
        return (caller, own_destination(channel, caller, destination)) if not caller.disabled else None
    if destination is None:
        raise _required(channel)
    user: User | None
    if channel == EMAIL:
        user = await user_repo.get_by_email(db, email_key=email_key(destination))
        if user is not None and purpose == VERIFY and user.email_verified:
            user = None
    else:
        # Sign-in and second-factor codes go only to a phone the account has verified.
        user = await user_repo.find_by_phone(db, phone=destination, verified=purpose != VERIFY)
    if user is None or user.disabled:
        return None
    if purpose == MFA:
        factor = await mfa_repo.get_code_factor(db, user_id=user.id)
        if factor is None or factor.channel != channel:
            return None
    return user, (user.email if channel == EMAIL else destination)


async def send_code(
    rt: Parts, *, channel: str, purpose: str, destination: str | None, caller: User | None = None
) -> None:
    """Queue a code; the caller answers 202 whatever happened (no account enumeration).

    The sending limits are counted first, on the destination asked for, before any account
    is looked up: a known and an unknown recipient cost the same and get the same answers."""
    if caller is not None:
        to = own_destination(channel, caller, destination)
    elif destination is None:
        raise _required(channel)
    else:
        to = destination
    allowed = await allow_message(rt, channel=channel, to=to)
    async with rt.read() as db:
        found = await _recipient(db, channel=channel, purpose=purpose, destination=destination, caller=caller)
    user, where = found if found is not None else (None, to)
    async with rt.uow() as tx:
        await queue_code(tx, rt, user=user, channel=channel, to=where, purpose=purpose, allowed=allowed)


async def queue_code(
    tx: UnitOfWork, rt: Parts, *, user: User | None, channel: str, to: str, purpose: str, allowed: Allowed
) -> None:
    """A code and its message, in `tx`, voiding the previous code for the same purpose and
    destination. With no user, the same rows as a decoy that is never sent. `allowed`: the
    message was counted against the sending limits (`delivery.compose.allow_message`)."""
    code, row = one_time.code_row(
        rt,
        purpose=STORED_PURPOSE[purpose],
        user_id=user.id if user is not None else None,
        lifetime=LIFETIME,
        max_attempts=MAX_TRIES,
        channel=channel,
        address=stored_address(channel, to),
    )
    message = message_row(
        rt,
        allowed=allowed,
        kind="otp_code",
        channel=channel,
        to=to,
        expires_at=row.expires_at,
        code=code,
        purpose=PHRASES[purpose],
        lifetime=lifetime_words(int(LIFETIME.total_seconds())),
    )
    await one_time_repo.void(tx.db, now=row.created_at, purposes=[row.purpose], address=row.address)
    await one_time_repo.add(tx.db, row=row)
    await outbox_repo.add(tx.db, row=message if user is not None else suppressed(message))
    tx.on_commit(rt.courier.poke)


async def _subject(rt: Parts, channel: str, address: str, *, caller: User | None) -> str:
    """Whose failures a wrong code counts against: the signed-in caller, else the account the
    phone or address names (or that phone or address, when it names none)."""
    if caller is not None:
        return account(caller.id)
    return await gate.subject_of(rt, kind="email" if channel == EMAIL else "phone", key=address)


@dataclass(frozen=True)
class CodeCheck:
    channel: str
    code: str
    destination: str | None = None


@dataclass(frozen=True)
class RightCode:
    """A code that matched: its row, still to be used up, and the account it was sent for."""

    secret_id: str
    user_id: str


async def redeem(rt: Parts, *, purpose: str, check: CodeCheck, address: str, user_id: str | None = None) -> RightCode:
    """Check the code (counted: a wrong one is recorded against the account it was for)."""
    redeemed = await one_time.redeem_code(
        rt, purpose=STORED_PURPOSE[purpose], code=normalize_code(check.code), address=address, user_id=user_id
    )
    row = redeemed.row
    if row is None or row.user_id is None:
        raise WrongSecret(invalid_code(purpose), user_id=redeemed.owner, method=CODE.name)
    return RightCode(secret_id=row.id, user_id=row.user_id)


async def sign_in_with_code(rt: Parts, check: CodeCheck, ctx: RequestContext) -> LoginResult:
    """Passwordless sign-in; a code by email proves the mailbox, and ends in the gate."""
    if check.destination is None:
        raise _required(check.channel)
    address = stored_address(check.channel, check.destination)
    async with gate.counting(rt, ctx, subject=await _subject(rt, check.channel, address, caller=None)):
        right = await redeem(rt, purpose=LOGIN, check=check, address=address)
        async with rt.uow() as tx:
            if not await one_time_repo.consume(tx.db, secret_id=right.secret_id, now=utcnow()):
                raise invalid_code(LOGIN)
            user: User | None
            if check.channel == EMAIL:
                user = await prove_address(tx, rt, user_id=right.user_id, email_key=address)
            else:
                user = await user_repo.get(tx.db, user_id=right.user_id)
                if user is not None and not (user.phone == address and user.phone_verified):
                    user = None
            if user is None:
                raise invalid_code(LOGIN)
            outcome = await gate.complete(tx, rt, user=user, proofs=[CODE.proof(check.channel)], ctx=ctx)
    return await gate.finish(rt, outcome)


async def verify_contact(rt: Parts, check: CodeCheck, caller: User | None, ctx: RequestContext) -> User:
    """Mark the phone or address the code went to as verified (if the account still has it)."""
    destination = own_destination(check.channel, caller, check.destination) if caller else check.destination
    if destination is None:
        raise _required(check.channel)
    address = stored_address(check.channel, destination)
    async with gate.counting(rt, ctx, subject=await _subject(rt, check.channel, address, caller=caller)):
        right = await redeem(rt, purpose=VERIFY, check=check, address=address, user_id=caller.id if caller else None)
    user_id = right.user_id
    now = utcnow()
    async with rt.uow() as tx:
        used = await one_time_repo.consume(tx.db, secret_id=right.secret_id, now=now)
        if check.channel == EMAIL:
            marked = used and await user_repo.mark_email_verified(tx.db, user_id=user_id, email_key=address, now=now)
        else:
            marked = used and await user_repo.mark_phone_verified(tx.db, user_id=user_id, phone=address, now=now)
        if not marked:
            raise invalid_code(VERIFY)
        kind = "email.verified" if check.channel == EMAIL else "phone.verified"
        tx.audit(kind, user_id=user_id)
        tx.emit(kind, userId=user_id)
        tx.on_commit(lambda: rt.principals.drop_user(user_id))
        user = await user_repo.get(tx.db, user_id=user_id)
    assert user is not None
    return user


async def send_to_factor(rt: Parts, *, user: User) -> str | None:
    """Send a code where the account's one-time-code factor sends them (a second step, a
    re-authentication, turning the factor off); its channel, or None when the factor is off."""
    async with rt.read() as db:
        factor = await mfa_repo.get_code_factor(db, user_id=user.id)
    if factor is None:
        return None
    await send_code(rt, channel=factor.channel, purpose=MFA, destination=None, caller=user)
    return factor.channel


async def send_for_challenge(rt: Parts, *, mfa_token: str) -> None:
    """Send the code of the account's one-time-code factor for a pending second step (the
    hosted second-step page's "Send a code"); spends no try of the mfaToken."""
    async with rt.read() as db:
        pending = await one_time_repo.peek(db, purpose=MFA_CHALLENGE, digest=digest(mfa_token), now=utcnow())
        if pending is None or pending.user_id is None or pending.attempts >= pending.max_attempts:
            raise challenge_refused()
        user = await user_repo.get(db, user_id=pending.user_id)
    if user is None or await send_to_factor(rt, user=user) is None:
        raise challenge_refused()
