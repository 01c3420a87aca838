"""Six-digit one-time codes by SMS or email: passwordless sign-in, verifying a phone or an
address, and a second factor beside TOTP (registered in `services/factors.py`).

A code lives 10 minutes, allows 5 tries and works once. It is stored as an HMAC bound to its
row. Every check first spends a try with one conditional UPDATE, then compares, then uses the
code up with another: so parallel guesses are counted exactly and one code signs in once.
Sending a new code for the same (channel, destination, purpose) voids the previous one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from authgate.delivery.base import EMAIL, SMS
from authgate.delivery.outbox import suppressed
from authgate.delivery.templates import lifetime_words
from authgate.errors import AuthError, ErrorCode, FieldError, invalid_credentials, invalid_mfa_code, validation_failed
from authgate.security.codes import new_code, normalize_code
from authgate.security.identifiers import email_key, normalize_email, normalize_phone
from authgate.services.context import RequestContext
from authgate.services.factors import enabled_factors, register_factor, sync_mfa_flag
from authgate.services.login import check_second_factor, complete_sign_in
from authgate.services.outbound import message_row
from authgate.services.runtime import Runtime
from authgate.services.sessions import LoginResult
from authgate.storage.models import OneTimeCode, OutboxMessage, User, new_id, utcnow
from authgate.storage.repositories import codes as codes_repo
from authgate.storage.repositories import outbox as outbox_repo
from authgate.storage.repositories import users as user_repo

LOGIN = "login"
VERIFY = "verify"
MFA = "mfa"
PURPOSES = (LOGIN, VERIFY, MFA)
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


def destination_of(channel: str, *, phone: str | None, email: str | None) -> str | None:
    """The normalised phone (sms) or address (email) the body names, or None if it names none."""
    field, raw = ("phone", phone) if channel == SMS else ("email", email)
    if raw is None or raw == "":
        return None
    try:
        return normalize_phone(raw) if channel == SMS else normalize_email(raw)
    except ValueError as exc:
        raise validation_failed(FieldError(field, str(exc))) from None


def _stored(channel: str, destination: str) -> str:
    """How a destination is kept and looked up: addresses case-folded, phones as E.164."""
    return email_key(destination) if channel == EMAIL else destination


def _same(channel: str, a: str, b: str) -> bool:
    return email_key(a) == email_key(b) if channel == EMAIL else a == b


def _own_destination(channel: str, caller: User, given: str | None) -> str:
    """An authenticated caller's codes go to the caller's own phone or address only."""
    field = "phone" if channel == SMS else "email"
    own = caller.phone if channel == SMS else caller.email
    if own is None:
        raise validation_failed(FieldError(field, "Your account has no phone number."))
    if given is not None and not _same(channel, given, own):
        raise validation_failed(FieldError(field, f"Codes can only be sent to your own {field}."))
    return own


async def _recipient(
    db: AsyncSession, *, channel: str, purpose: str, destination: str | None, caller: User | None
) -> tuple[User, str] | None:
    """Which account gets a code, and where; None sends nothing (the answer stays the same)."""
    if caller is not None:
        return (caller, _own_destination(channel, caller, destination)) if not caller.disabled else None
    if destination is None:
        field = "phone" if channel == SMS else "email"
        raise validation_failed(FieldError(field, "This field is required."))
    user: User | None
    if channel == EMAIL:
        user = await user_repo.get_by_email(db, email_key=email_key(destination))
        if user is not None and purpose == VERIFY and user.email_verified:
            user = None
    else:
        # Sign-in and second-factor codes go only to a phone the account has verified.
        user = await codes_repo.find_user_by_phone(db, phone=destination, verified=purpose != VERIFY)
    if user is None or user.disabled:
        return None
    if purpose == MFA:
        factor = await codes_repo.get_factor(db, user_id=user.id)
        if factor is None or factor.channel != channel:
            return None
    return user, (user.email if channel == EMAIL else destination)


def _code_rows(
    rt: Runtime, *, user: User | None, channel: str, destination: str, purpose: str
) -> tuple[OneTimeCode, OutboxMessage]:
    """A code and its message; with no user, the same rows as a decoy that is never sent."""
    code = new_code()
    now = utcnow()
    row_id = new_id()
    row = OneTimeCode(
        id=row_id,
        user_id=user.id if user is not None else None,
        channel=channel,
        destination=_stored(channel, destination),
        purpose=purpose,
        code_hash=rt.codes.digest(code, bound_to=row_id),
        attempts=0,
        created_at=now,
        expires_at=now + LIFETIME,
    )
    message = message_row(
        rt,
        kind="otp_code",
        channel=channel,
        to=destination,
        expires_at=row.expires_at,
        code=code,
        purpose=PHRASES[purpose],
        lifetime=lifetime_words(int(LIFETIME.total_seconds())),
    )
    return row, message if user is not None else suppressed(message)


async def send_code(
    rt: Runtime, *, channel: str, purpose: str, destination: str | None, caller: User | None = None
) -> None:
    """Queue a code; the caller answers 202 whatever happened (no account enumeration)."""
    async with rt.autocommit() as db:
        found = await _recipient(db, channel=channel, purpose=purpose, destination=destination, caller=caller)
    user, where = found if found is not None else (None, destination or "")
    row, message = _code_rows(rt, user=user, channel=channel, destination=where, purpose=purpose)
    async with rt.db.begin() as db:
        await codes_repo.void_codes(
            db, now=row.created_at, channel=channel, destination=row.destination, purpose=purpose
        )
        await codes_repo.add_code(db, row=row)
        await outbox_repo.add(db, row=message)
    rt.courier.poke()


@dataclass(frozen=True)
class LiveCode:
    id: str
    user_id: str
    destination: str
    code_hash: str


async def _use(rt: Runtime, db: AsyncSession, row: LiveCode, code: str) -> bool:
    """Spend a try, compare, use up: True for the one caller whose right code got the row."""
    now = utcnow()
    if not await codes_repo.count_attempt(db, code_id=row.id, max_attempts=MAX_TRIES, now=now):
        return False
    if not rt.codes.matches(code, row.code_hash, bound_to=row.id):
        return False
    return await codes_repo.consume_code(db, code_id=row.id, now=now)


async def _live_code(
    rt: Runtime, *, channel: str, purpose: str, destination: str | None = None, user_id: str | None = None
) -> LiveCode | None:
    """The newest unused, unexpired code (never a decoy) for these filters."""
    async with rt.autocommit() as db:
        row = await codes_repo.latest_live_code(
            db, channel=channel, purpose=purpose, now=utcnow(), destination=destination, user_id=user_id
        )
    if row is None or row.user_id is None:
        return None
    return LiveCode(id=row.id, user_id=row.user_id, destination=row.destination, code_hash=row.code_hash)


@dataclass(frozen=True)
class CodeCheck:
    channel: str
    code: str
    destination: str | None = None


async def sign_in_with_code(rt: Runtime, check: CodeCheck, ctx: RequestContext) -> LoginResult:
    """Passwordless sign-in; ends in the sign-in gate like every other path."""
    code = normalize_code(check.code)
    if check.destination is None:
        raise validation_failed(FieldError("phone" if check.channel == SMS else "email", "This field is required."))
    row = await _live_code(
        rt, channel=check.channel, purpose=LOGIN, destination=_stored(check.channel, check.destination)
    )
    if code is None or row is None:
        raise invalid_code(LOGIN)
    user: User | None = None
    async with rt.db.begin() as db:
        if await _use(rt, db, row, code):
            # A code proves control of where it went, and of nothing once the account's changed.
            if check.channel == EMAIL:
                key = email_key(row.destination)
                if await user_repo.mark_email_verified(db, user_id=row.user_id, email_key=key, now=utcnow()):
                    user = await user_repo.get(db, user_id=row.user_id)
            else:
                user = await user_repo.get(db, user_id=row.user_id)
                if user is not None and not (user.phone == row.destination and user.phone_verified):
                    user = None
    if user is None:
        raise invalid_code(LOGIN)
    rt.principals.drop_user(user.id)
    return await complete_sign_in(rt, user=user, amr=["sms" if check.channel == SMS else "otp"], ctx=ctx)


async def verify_destination(rt: Runtime, check: CodeCheck, caller: User | None) -> User:
    """Mark the phone or address the code went to as verified (if the account still has it)."""
    code = normalize_code(check.code)
    destination = _own_destination(check.channel, caller, check.destination) if caller else check.destination
    if destination is None:
        raise validation_failed(FieldError("phone" if check.channel == SMS else "email", "This field is required."))
    row = await _live_code(
        rt,
        channel=check.channel,
        purpose=VERIFY,
        destination=_stored(check.channel, destination),
        user_id=caller.id if caller else None,
    )
    if code is None or row is None:
        raise invalid_code(VERIFY)
    now = utcnow()
    async with rt.db.begin() as db:
        used = await _use(rt, db, row, code)
        marked = False
        if used and check.channel == EMAIL:
            marked = await user_repo.mark_email_verified(
                db, user_id=row.user_id, email_key=email_key(row.destination), now=now
            )
        elif used:
            marked = await user_repo.mark_phone_verified(db, user_id=row.user_id, phone=row.destination, now=now)
        user = await user_repo.get(db, user_id=row.user_id) if marked else None
    if user is None:
        raise invalid_code(VERIFY)
    rt.principals.drop_user(user.id)
    return user


async def enable_factor(rt: Runtime, check: CodeCheck, caller: User) -> str:
    """Turn the code second factor on for `check.channel`, proved by a code sent there with
    purpose "mfa" (which also verifies that phone or address)."""
    code = normalize_code(check.code)
    destination = _own_destination(check.channel, caller, check.destination)
    row = await _live_code(
        rt, channel=check.channel, purpose=MFA, destination=_stored(check.channel, destination), user_id=caller.id
    )
    if code is None or row is None:
        raise invalid_code(MFA)
    now = utcnow()
    async with rt.db.begin() as db:
        used = await _use(rt, db, row, code)
        if used:
            await codes_repo.set_factor(db, user_id=caller.id, channel=check.channel, now=now)
            if check.channel == EMAIL:
                await user_repo.mark_email_verified(db, user_id=caller.id, email_key=email_key(destination), now=now)
            else:
                await user_repo.mark_phone_verified(db, user_id=caller.id, phone=destination, now=now)
    if not used:
        raise invalid_code(MFA)
    await sync_mfa_flag(rt, user_id=caller.id)
    return check.channel


async def remove_factor(rt: Runtime, *, caller: User, verification_code: str) -> None:
    """Turn the code second factor off; the code may come from any second factor that is on."""
    async with rt.autocommit() as db:
        factor = await codes_repo.get_factor(db, user_id=caller.id)
    if factor is None:
        raise validation_failed(FieldError("verificationCode", "The one-time-code second factor is not on."))
    # Like any second-factor code: a wrong one is recorded as a failure (login.record_failure).
    await check_second_factor(rt, user=caller, factors=await enabled_factors(rt, caller), code=verification_code)
    async with rt.db.begin() as db:
        await codes_repo.delete_factor(db, user_id=caller.id)
    await sync_mfa_flag(rt, user_id=caller.id)


class OtpFactor:
    """The SMS/email code as a second factor: on when the user enrolled it; a code sent with
    purpose "mfa" to the enrolled channel passes once."""

    name = "otp"
    amr = "otp"

    async def enabled_for(self, rt: Runtime, user: User) -> bool:
        async with rt.autocommit() as db:
            return await codes_repo.get_factor(db, user_id=user.id) is not None

    async def verify(self, rt: Runtime, user: User, code: str) -> bool:
        normalized = normalize_code(code)
        async with rt.autocommit() as db:
            factor = await codes_repo.get_factor(db, user_id=user.id)
        if normalized is None or factor is None:
            return False
        row = await _live_code(rt, channel=factor.channel, purpose=MFA, user_id=user.id)
        if row is None:
            return False
        async with rt.db.begin() as db:
            return await _use(rt, db, row, normalized)


register_factor(OtpFactor())
