"""Emailed links: email verification, password reset and magic-link sign-in.

A link is a random token (256 bits) stored only as its SHA-256, with a purpose, an expiry and
the address it was sent to; it is used up by one conditional UPDATE, so of N concurrent clicks
exactly one wins. Asking for a link answers the same whether or not the account exists, and
does the same database work: an unknown account gets the same rows, as a decoy token (no user) and a
`suppressed` outbox row that is never sent; the slow part, sending, is the courier's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from authgate.delivery.base import EMAIL
from authgate.delivery.outbox import suppressed
from authgate.delivery.templates import lifetime_words
from authgate.errors import AuthError, ErrorCode, FieldError, validation_failed
from authgate.security.identifiers import email_key, normalize_email
from authgate.security.redirects import UnsafeRedirect, allowed_origins, check_redirect
from authgate.security.tokens import digest, random_token
from authgate.services.context import RequestContext
from authgate.services.login import complete_sign_in
from authgate.services.outbound import link_url, message_row
from authgate.services.runtime import Runtime
from authgate.services.sessions import LoginResult, revoke_user_sessions
from authgate.storage.models import LinkToken, OutboxMessage, User, utcnow
from authgate.storage.repositories import codes as codes_repo
from authgate.storage.repositories import outbox as outbox_repo
from authgate.storage.repositories import users as user_repo

VERIFY_EMAIL = "verify_email"
RESET_PASSWORD = "reset_password"  # noqa: S105 (a purpose, not a secret)
MAGIC_LINK = "magic_link"

LIFETIMES = {
    VERIFY_EMAIL: timedelta(hours=24),
    RESET_PASSWORD: timedelta(hours=1),
    MAGIC_LINK: timedelta(minutes=15),
}
PATHS = {VERIFY_EMAIL: "/email/verify/", RESET_PASSWORD: "/password/reset/", MAGIC_LINK: "/login/magic/"}
MAX_TOKEN_CHARS = 128


def bad_link() -> AuthError:
    """Unknown, used and expired links all get this one answer (SPEC §3: 400 invalid_token)."""
    return AuthError(
        ErrorCode.INVALID_TOKEN, 400, "Invalid link", "The link is not valid, was already used, or has expired."
    )


def checked_redirect(rt: Runtime, value: str | None) -> str | None:
    """The absolute URL to send the browser to, or 400 when `redirectTo` is not allowed."""
    if value is None:
        return None
    try:
        return check_redirect(
            value,
            allowed_origins=allowed_origins(rt.settings.redirect_allowlist, rt.settings.public_url),
            base_url=rt.settings.public_url,
        )
    except UnsafeRedirect as exc:
        raise validation_failed(FieldError("redirectTo", str(exc))) from None


def _still_allowed(rt: Runtime, stored: str | None) -> str | None:
    """A stored redirect is checked again at use: the allow-list may have shrunk since."""
    try:
        return checked_redirect(rt, stored)
    except AuthError:
        return None


def _link_rows(
    rt: Runtime, *, user: User | None, address: str, purpose: str, redirect_to: str | None
) -> tuple[LinkToken, OutboxMessage]:
    """A link and its message; with no user, the same rows as a decoy that is never sent."""
    token = random_token()
    now = utcnow()
    lifetime = LIFETIMES[purpose]
    to = user.email if user is not None else address
    link = LinkToken(
        user_id=user.id if user is not None else None,
        purpose=purpose,
        token_digest=digest(token),
        email=to,
        redirect_to=redirect_to,
        created_at=now,
        expires_at=now + lifetime,
    )
    message = message_row(
        rt,
        kind=purpose,
        channel=EMAIL,
        to=to,
        expires_at=link.expires_at,
        link=link_url(rt, PATHS[purpose], token),
        email=to,
        lifetime=lifetime_words(int(lifetime.total_seconds())),
    )
    return link, message if user is not None else suppressed(message)


async def _queue(rt: Runtime, rows: list[LinkToken | OutboxMessage]) -> None:
    async with rt.db.begin() as db:
        for row in rows:
            if isinstance(row, LinkToken):
                await codes_repo.add_link(db, row=row)
            else:
                await outbox_repo.add(db, row=row)
    rt.courier.poke()


def _address(raw: str) -> str:
    try:
        return normalize_email(raw)
    except ValueError as exc:
        raise validation_failed(FieldError("email", str(exc))) from None


async def request_link(rt: Runtime, *, purpose: str, email: str, redirect_to: str | None = None) -> None:
    """Send a link of `purpose` to the account with this address, if there is one that should
    get it; answer the same either way (no account enumeration)."""
    address = _address(email)
    target = checked_redirect(rt, redirect_to)
    async with rt.autocommit() as db:
        user = await user_repo.get_by_email(db, email_key=email_key(address))
    if user is not None and (user.disabled or (purpose == VERIFY_EMAIL and user.email_verified)):
        user = None
    await _queue(rt, list(_link_rows(rt, user=user, address=address, purpose=purpose, redirect_to=target)))


def _token_digest(token: str) -> str:
    if not token or len(token) > MAX_TOKEN_CHARS:
        raise bad_link()
    return digest(token)


# --- email verification ---------------------------------------------------------------------


async def verify_email(rt: Runtime, *, token: str) -> str | None:
    """Mark the address verified; returns the (still allowed) redirect, if one was given."""
    token_digest = _token_digest(token)
    now = utcnow()
    async with rt.db.begin() as db:
        link = await codes_repo.consume_link(db, token_digest=token_digest, purpose=VERIFY_EMAIL, now=now)
        if link is None:
            raise bad_link()
        # Raising here rolls the consume back too; the link is useless once the address changed.
        if not await user_repo.mark_email_verified(db, user_id=link.user_id, email_key=email_key(link.email), now=now):
            raise bad_link()
    rt.principals.drop_user(link.user_id)
    return _still_allowed(rt, link.redirect_to)


# --- password reset -------------------------------------------------------------------------


async def check_reset_link(rt: Runtime, *, token: str) -> None:
    """400 unless the reset link is live; does not use it up (the form page shows it)."""
    token_digest = _token_digest(token)
    async with rt.autocommit() as db:
        found = await codes_repo.peek_link(db, token_digest=token_digest, purpose=RESET_PASSWORD, now=utcnow())
    if found is None:
        raise bad_link()


@dataclass(frozen=True)
class ResetDone:
    user_id: str
    redirect_to: str | None


async def reset_password(rt: Runtime, *, token: str, password: str) -> ResetDone:
    """Set a new password from a reset link: the link is used up, every session of the user is
    revoked, every other outstanding reset/magic link and one-time code is voided. An enabled
    second factor is left as it is, so the next sign-in still asks for it."""
    token_digest = _token_digest(token)
    async with rt.autocommit() as db:
        found = await codes_repo.peek_link(db, token_digest=token_digest, purpose=RESET_PASSWORD, now=utcnow())
    if found is None:
        raise bad_link()
    _, user = found
    problems = rt.policy.problems(password, email=user.email, username=user.username)
    if problems:
        raise validation_failed(*(FieldError("password", message) for message in problems))
    password_hash = await rt.hasher.hash(password)  # outside any transaction (docs/architecture.md)

    now = utcnow()
    async with rt.db.begin() as db:
        link = await codes_repo.consume_link(db, token_digest=token_digest, purpose=RESET_PASSWORD, now=now)
        if link is None:
            raise bad_link()
        await user_repo.set_password_hash(db, user_id=link.user_id, password_hash=password_hash)
        await codes_repo.void_links(db, user_id=link.user_id, purposes=(RESET_PASSWORD, MAGIC_LINK), now=now)
        await codes_repo.void_codes(db, now=now, user_id=link.user_id)
        # Opening the emailed link proved control of the address.
        await user_repo.mark_email_verified(db, user_id=link.user_id, email_key=email_key(link.email), now=now)
    await revoke_user_sessions(rt, user_id=link.user_id)
    rt.principals.drop_user(link.user_id)
    return ResetDone(user_id=link.user_id, redirect_to=_still_allowed(rt, link.redirect_to))


async def void_outstanding(rt: Runtime, *, user_id: str) -> None:
    """Void every outstanding reset and magic link and one-time code of a user: for a password
    change outside the reset flow (SPEC §4: a change voids them too)."""
    now = utcnow()
    async with rt.db.begin() as db:
        await codes_repo.void_links(db, user_id=user_id, purposes=(RESET_PASSWORD, MAGIC_LINK), now=now)
        await codes_repo.void_codes(db, now=now, user_id=user_id)


# --- magic link -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MagicSignIn:
    result: LoginResult
    redirect_to: str | None


async def sign_in_with_link(rt: Runtime, *, token: str, ctx: RequestContext) -> MagicSignIn:
    """Use up a magic link and sign in through the gate (disabled, verification, MFA)."""
    token_digest = _token_digest(token)
    now = utcnow()
    async with rt.db.begin() as db:
        link = await codes_repo.consume_link(db, token_digest=token_digest, purpose=MAGIC_LINK, now=now)
        if link is None:
            raise bad_link()
        # The link proves control of the address it went to, and of nothing once that changed.
        if not await user_repo.mark_email_verified(db, user_id=link.user_id, email_key=email_key(link.email), now=now):
            raise bad_link()
        user = await user_repo.get(db, user_id=link.user_id)
    if user is None:
        raise bad_link()
    rt.principals.drop_user(user.id)
    result = await complete_sign_in(rt, user=user, amr=["email"], ctx=ctx)
    return MagicSignIn(result=result, redirect_to=_still_allowed(rt, link.redirect_to))


# --- after registration ---------------------------------------------------------------------


async def send_verification(rt: Runtime, *, user: User) -> None:
    await _queue(rt, list(_link_rows(rt, user=user, address=user.email, purpose=VERIFY_EMAIL, redirect_to=None)))


async def send_reset(rt: Runtime, *, user: User) -> None:
    await _queue(rt, list(_link_rows(rt, user=user, address=user.email, purpose=RESET_PASSWORD, redirect_to=None)))


async def send_welcome(rt: Runtime, *, user: User) -> None:
    await _queue(rt, [message_row(rt, kind="welcome", channel=EMAIL, to=user.email, expires_at=None, email=user.email)])
