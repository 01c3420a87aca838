"""Emailed links: email verification, password reset and magic-link sign-in.

A link is a random token (256 bits) kept in the one-time store as its SHA-256, with its
purpose, its expiry and the address it was sent to; it is used up by one conditional UPDATE,
so of N concurrent clicks exactly one wins. Asking for a link answers the same whether or not
the account exists, and does the same database work: an unknown account gets the same rows, as
a decoy (no user) and a `suppressed` outbox row that is never sent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote

from authgate.core.parts import Parts
from authgate.delivery.base import EMAIL
from authgate.delivery.compose import Allowed, allow_message, link_url, message_row
from authgate.delivery.outbox import suppressed
from authgate.delivery.templates import lifetime_words
from authgate.errors import AuthError, ErrorCode, FieldError, validation_failed
from authgate.methods.link.factor import LINK
from authgate.scope import RequestContext
from authgate.security.identifiers import email_key, normalize_email
from authgate.security.opaque import digest
from authgate.security.redirects import UnsafeRedirect, check_redirect
from authgate.signin import code_exchange, gate, one_time
from authgate.signin.address import prove_address
from authgate.signin.sessions import LoginResult, revoke_user_sessions
from authgate.storage.models import OneTimeSecret, User, utcnow
from authgate.storage.models.one_time import (
    CODE_EXCHANGE,
    CODE_LOGIN,
    CODE_MFA,
    CODE_VERIFY,
    MFA_CHALLENGE,
    OAUTH_STATE,
)
from authgate.storage.models.one_time import MAGIC_LINK as MAGIC_LINK
from authgate.storage.models.one_time import RESET_PASSWORD as RESET_PASSWORD
from authgate.storage.models.one_time import VERIFY_EMAIL as VERIFY_EMAIL
from authgate.storage.repositories import one_time as one_time_repo
from authgate.storage.repositories import outbox as outbox_repo
from authgate.storage.repositories import users as user_repo
from authgate.storage.uow import UnitOfWork

LIFETIMES = {
    VERIFY_EMAIL: timedelta(hours=24),
    RESET_PASSWORD: timedelta(hours=1),
    MAGIC_LINK: timedelta(minutes=15),
}
PATHS = {VERIFY_EMAIL: "/email/verify/", RESET_PASSWORD: "/password/reset/", MAGIC_LINK: "/login/magic/"}
# The app's page for each link under AUTHGATE_APP_URL, unless its own setting names another.
APP_PAGES = {VERIFY_EMAIL: "/auth/verify-email", RESET_PASSWORD: "/auth/reset-password", MAGIC_LINK: "/auth/magic-link"}
MAX_TOKEN_CHARS = 128
# What a password change voids: anything that could still sign in, set a password, or link a
# provider (a link flow started before the change).
VOIDED_BY_PASSWORD_CHANGE = (
    RESET_PASSWORD,
    MAGIC_LINK,
    CODE_LOGIN,
    CODE_VERIFY,
    CODE_MFA,
    MFA_CHALLENGE,
    OAUTH_STATE,
    CODE_EXCHANGE,
)


def bad_link() -> AuthError:
    """Unknown, used and expired links all get this one answer (400 invalid_token)."""
    return AuthError(
        ErrorCode.INVALID_TOKEN, 400, "Invalid link", "The link is not valid, was already used, or has expired."
    )


def emailed_link(rt: Parts, purpose: str, token: str, *, to_authgate: bool = False) -> str:
    """Where the link in the email goes: the app's page for this flow with `?token=` when the
    app's URL is configured (the app then finishes the flow through the API), else, or with
    `to_authgate`, authgate's own route. Built from settings only, never from the request."""
    settings = rt.settings
    overrides = {
        VERIFY_EMAIL: settings.app_verify_email_url,
        RESET_PASSWORD: settings.app_reset_password_url,
        MAGIC_LINK: settings.app_magic_link_url,
    }
    page = overrides[purpose] or (settings.app_url + APP_PAGES[purpose] if settings.app_url else None)
    if page is None or to_authgate:
        return link_url(rt, PATHS[purpose], token)
    return f"{page}{'&' if '?' in page else '?'}token={quote(token, safe='')}"


def checked_redirect(rt: Parts, value: str | None, *, page: bool = False) -> str | None:
    """The absolute URL to send the browser to, or 400 when `redirectTo` is not allowed. A hosted
    page's `return_to` (`page`) may also name any URL of the public URL's origin, allow-list or not."""
    if value is None:
        return None
    allowed = [*rt.settings.redirect_targets, rt.settings.public_url] if page else rt.settings.redirect_targets
    try:
        return check_redirect(value, allowed=allowed, base_url=rt.settings.public_url)
    except UnsafeRedirect as exc:
        raise validation_failed(FieldError("redirectTo", str(exc))) from None


def still_allowed(rt: Parts, stored: str | None) -> str | None:
    """A stored redirect is checked again at use: the allow-list may have shrunk since. A URL of
    the public URL's own origin still passes (it was allowed when stored, by the list or as a
    hosted page's `return_to`, and sending a browser back to this server opens nothing)."""
    try:
        return checked_redirect(rt, stored, page=True)
    except AuthError:
        return None


async def queue_link(
    tx: UnitOfWork,
    rt: Parts,
    *,
    user: User | None,
    address: str,
    purpose: str,
    allowed: Allowed,
    redirect_to: str | None = None,
    code_challenge: str | None = None,
) -> None:
    """A link and its message, in `tx`; with no user, the same rows as a decoy never sent.
    `allowed`: the message was counted against the sending limits (`delivery.compose.allow_message`).
    A magic link with a `code_challenge` ends in a code for the app (signin/code_exchange.py)."""
    lifetime = LIFETIMES[purpose]
    to = user.email if user is not None else address
    token, row = one_time.token_row(
        purpose=purpose,
        user_id=user.id if user is not None else None,
        lifetime=lifetime,
        channel=EMAIL,
        address=email_key(to),
        redirect_to=redirect_to,
        data=code_challenge,
    )
    message = message_row(
        rt,
        allowed=allowed,
        kind=purpose,
        channel=EMAIL,
        to=to,
        expires_at=row.expires_at,
        link=emailed_link(rt, purpose, token, to_authgate=code_challenge is not None),
        email=to,
        lifetime=lifetime_words(int(lifetime.total_seconds())),
    )
    await one_time_repo.add(tx.db, row=row)
    await outbox_repo.add(tx.db, row=message if user is not None else suppressed(message))
    tx.on_commit(rt.courier.poke)


def _address(raw: str) -> str:
    try:
        return normalize_email(raw)
    except ValueError as exc:
        raise validation_failed(FieldError("email", exc.args[0])) from None  # a said()


async def request_link(
    rt: Parts,
    *,
    purpose: str,
    email: str,
    redirect_to: str | None = None,
    code_challenge: str | None = None,
    code_challenge_method: str | None = None,
    also: Callable[[UnitOfWork, User | None], Awaitable[None]] | None = None,
    page: bool = False,
) -> None:
    """Send a link of `purpose` to the account with this address, if there is one that should
    get it; answer the same either way (no account enumeration). The sending limits are
    counted on the address before the account is looked up, so they answer alike for both.
    `also` runs in the transaction that queues the link, given the account it goes to (None:
    the decoy), before the link is queued: an administrator's request checks its target and
    records itself there (services/admin/users.send_password_reset). `page`: the target is a
    hosted page's `return_to` (`checked_redirect`)."""
    address = _address(email)
    target = checked_redirect(rt, redirect_to, page=page)
    challenge = code_exchange.checked_challenge(code_challenge, code_challenge_method, target)
    allowed = await allow_message(rt, channel=EMAIL, to=address)
    async with rt.read() as db:
        user = await user_repo.get_by_email(db, email_key=email_key(address))
    if user is not None and (user.disabled or (purpose == VERIFY_EMAIL and user.email_verified)):
        user = None
    async with rt.uow() as tx:
        if also is not None:
            await also(tx, user)
        await queue_link(
            tx,
            rt,
            user=user,
            address=address,
            purpose=purpose,
            allowed=allowed,
            redirect_to=target,
            code_challenge=challenge,
        )


def _token_digest(token: str) -> str:
    if not token or len(token) > MAX_TOKEN_CHARS:
        raise bad_link()
    return digest(token)


@dataclass(frozen=True)
class UsedLink:
    user_id: str
    address: str  # the key of the address it was sent to
    redirect_to: str | None
    code_challenge: str | None  # a magic link for a native app (signin/code_exchange.py)


async def _use(tx: UnitOfWork, *, purpose: str, token: str) -> UsedLink:
    """Use the link up in `tx` (of concurrent clicks, one wins); 400 `invalid_token` for an
    unknown, used or expired one. Raising later in `tx` rolls the use back too."""
    row = await one_time_repo.consume_by_digest(tx.db, purpose=purpose, digest=_token_digest(token), now=utcnow())
    if row is None or row.user_id is None or row.address is None:
        raise bad_link()
    return UsedLink(user_id=row.user_id, address=row.address, redirect_to=row.redirect_to, code_challenge=row.data)


# --- email verification ---------------------------------------------------------------------


async def verify_email(rt: Parts, *, token: str) -> str | None:
    """Mark the address verified; returns the (still allowed) redirect, if one was given.

    A verification link confirms the registration as it is: it signs no one in. An owner who
    did not register the account takes it over with a reset or a magic link instead, which
    discard what the registrant set (docs/security.md)."""
    async with rt.uow() as tx:
        link = await _use(tx, purpose=VERIFY_EMAIL, token=token)
        user_id = link.user_id
        # The link is useless once the account's address changed.
        if not await user_repo.mark_email_verified(tx.db, user_id=user_id, email_key=link.address, now=utcnow()):
            raise bad_link()
        tx.audit("email.verified", user_id=user_id)
        tx.emit("email.verified", userId=user_id)
        tx.on_commit(lambda: rt.principals.drop_user(user_id))
    return still_allowed(rt, link.redirect_to)


# --- password reset -------------------------------------------------------------------------


async def check_reset_link(rt: Parts, *, token: str) -> None:
    """400 unless the reset link is live; does not use it up (the form page shows it)."""
    token_digest = _token_digest(token)
    async with rt.read() as db:
        found = await one_time_repo.peek(db, purpose=RESET_PASSWORD, digest=token_digest, now=utcnow())
    if found is None:
        raise bad_link()


@dataclass(frozen=True)
class ResetDone:
    user_id: str
    redirect_to: str | None


async def reset_password(rt: Parts, *, token: str, password: str) -> ResetDone:
    """Set a new password from a reset link, in one transaction: the link is used up, the
    address is proved (claiming a never-verified account, see `gate.prove_address`), every
    session of the user is revoked, every other outstanding link and code is voided. On a
    verified account an enabled second factor stays, so the next sign-in still asks for it."""
    token_digest = _token_digest(token)
    async with rt.read() as db:
        found = await one_time_repo.peek(db, purpose=RESET_PASSWORD, digest=token_digest, now=utcnow())
        user = await user_repo.get(db, user_id=found.user_id) if found and found.user_id else None
    if user is None:
        raise bad_link()
    problems = rt.policy.problems(password, email=user.email, username=user.username)
    if problems:
        raise validation_failed(*(FieldError("password", message) for message in problems))
    stored = await rt.hasher.hash(password)  # outside any transaction (docs/architecture.md)

    async with rt.uow() as tx:
        link = await _use(tx, purpose=RESET_PASSWORD, token=token)
        user_id = link.user_id
        # Opening the link proves the mailbox: a never-verified account is claimed first.
        if await prove_address(tx, rt, user_id=user_id, email_key=link.address) is None:
            raise bad_link()
        await user_repo.set_password(tx.db, user_id=user_id, stored=stored)
        await one_time_repo.void(tx.db, now=utcnow(), purposes=VOIDED_BY_PASSWORD_CHANGE, user_id=user_id)
        await revoke_user_sessions(tx, rt, user_id=user_id, reason="password_reset")
        tx.audit("password.reset", user_id=user_id)
        tx.emit("password.reset", userId=user_id)
        tx.on_commit(lambda: rt.principals.drop_user(user_id))
    return ResetDone(user_id=user_id, redirect_to=still_allowed(rt, link.redirect_to))


# --- magic link -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MagicSignIn:
    result: LoginResult | None  # None when the app gets a code instead
    redirect_to: str | None
    code: str | None = None  # for the app to exchange at POST /token


async def sign_in_with_link(rt: Parts, *, token: str, ctx: RequestContext) -> MagicSignIn:
    """Use up a magic link, prove the mailbox (claiming a never-verified account) and sign in
    through the gate, all in one transaction. A link asked for with a code challenge ends in
    a code for the app instead; the gate then runs when the app exchanges it."""
    async with rt.uow() as tx:
        link = await _use(tx, purpose=MAGIC_LINK, token=token)
        user = await prove_address(tx, rt, user_id=link.user_id, email_key=link.address)
        if user is None:
            raise bad_link()
        redirect_to = still_allowed(rt, link.redirect_to)
        if link.code_challenge is not None:
            if redirect_to is None:  # the app's URL was taken off the allow-list meanwhile
                raise bad_link()
            code = await code_exchange.issue(tx, user_id=user.id, proofs=[LINK.proof], challenge=link.code_challenge)
            return MagicSignIn(result=None, redirect_to=redirect_to, code=code)
        outcome = await gate.complete(tx, rt, user=user, proofs=[LINK.proof], ctx=ctx)
    return MagicSignIn(result=await gate.finish(rt, outcome), redirect_to=redirect_to)


async def _live_magic_link(rt: Parts, token: str) -> OneTimeSecret | None:
    """A live magic link, read without using it up (None: malformed, unknown, used or expired)."""
    try:
        token_digest = _token_digest(token)
    except AuthError:
        return None
    async with rt.read() as db:
        return await one_time_repo.peek(db, purpose=MAGIC_LINK, digest=token_digest, now=utcnow())


async def magic_link_target(rt: Parts, *, token: str) -> str | None:
    """Where a live magic link leads once used (its `return_to`)."""
    found = await _live_magic_link(rt, token)
    return still_allowed(rt, found.redirect_to) if found is not None else None


async def opens_in_app(rt: Parts, *, token: str) -> bool:
    """Whether a live magic link was asked for with a code challenge (a native app's, which
    keeps its API route)."""
    found = await _live_magic_link(rt, token)
    return found is not None and found.data is not None
