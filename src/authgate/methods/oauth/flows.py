"""Signing in and linking accounts through a provider (OAuth 2.0 / OpenID Connect).

A flow starts at `begin`: a random `state` goes to the provider and its digest into the
one-time store, with the `redirectTo`, the account to link to (for a link), and whom it is
for: the digest of the provider's name and of a value kept in a cookie of the browser that
started it. The PKCE verifier and the OpenID nonce are derived from the state with a key of
ours (HMAC), so nothing secret is stored and neither can be computed from the state alone.

The callback uses the state up before anything else, in one conditional statement that
matches only the provider and the browser it was issued to (of N concurrent callbacks one
goes on); only then is the code exchanged. What the identity opens, in one transaction:
- the account it is linked to;
- else, when no account has the provider's email, a new account with no password;
- else, only with `AUTHGATE_OAUTH_AUTO_LINK=true` and an email the provider marks verified,
  the account with that email, which the link proves the address of (a never-verified
  account is claimed first: `gate.prove_address`);
- else nothing: 409 `identity_not_linked`, sign in another way and link.
The sign-in is then finished by the gate (disabled accounts, verification, second factor).
A flow started with a `codeChallenge` (a native app) ends instead in a code for the app, and
the gate runs when the app exchanges it (signin/code_exchange.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import timedelta

from authgate.core.parts import Parts
from authgate.errors import (
    identity_not_linked,
    identity_taken,
    invalid_state,
    last_sign_in_method,
    not_found,
    oauth_denied,
    oauth_failed,
    provider_unavailable,
)
from authgate.methods.link.flows import checked_redirect, still_allowed
from authgate.methods.oauth.factor import OAUTH
from authgate.oauth import Grant, Identity, Provider, ProviderRefused, ProviderUnavailable
from authgate.observability.logging import get_logger
from authgate.scope import RequestContext
from authgate.security.identifiers import email_key, normalize_email
from authgate.security.opaque import digest, random_token
from authgate.security.text import has_control_characters, strip_control_characters
from authgate.settings import PROVIDER_NAME
from authgate.signin import code_exchange, gate, one_time, registration
from authgate.signin.address import prove_address
from authgate.signin.sessions import LoginResult
from authgate.storage.models import LinkedIdentity, User, utcnow
from authgate.storage.models.one_time import OAUTH_STATE
from authgate.storage.repositories import identities as identity_repo
from authgate.storage.repositories import one_time as one_time_repo
from authgate.storage.repositories import passkeys as passkey_repo
from authgate.storage.repositories import users as user_repo
from authgate.storage.repositories.identities import IdentityTaken
from authgate.storage.uow import UnitOfWork

log = get_logger("authgate.social")

STATE_LIFETIME = timedelta(minutes=10)
MAX_STATE_CHARS = 128
MAX_SUBJECT_CHARS = 255  # the column's width
HOSTED = "hosted"  # the state's data for a flow of the hosted pages (a code challenge is 43 characters)
BROWSER_VALUE = re.compile(r"[A-Za-z0-9_-]{43}")  # a random_token(): 256 bits, base64url


def provider_named(rt: Parts, name: str) -> Provider:
    provider = rt.providers.get(name)
    if provider is None:
        raise not_found("No sign-in provider has this name.")
    return provider


def callback_url(rt: Parts, provider: str) -> str:
    """The redirect URI to register at the provider: built from `AUTHGATE_PUBLIC_URL` and the
    first route prefix, never from the request."""
    return f"{rt.settings.public_url}{rt.settings.route_prefixes[0]}/oauth/{provider}/callback"


def _issued_to(provider: str, browser: str) -> str:
    """Whom a state is for: this provider's callback, in the browser holding this value. The
    state is used up only by a match, so another browser cannot even spoil it."""
    return digest(f"{provider}:{browser}")


def _derived(rt: Parts, state: str, what: str) -> str:
    return rt.codes.digest(state, bound_to=f"oauth {what}")


@dataclass(frozen=True)
class Started:
    url: str  # the provider's authorization URL
    browser: str  # the value for the browser's binding cookie


def browser_value(cookie: str | None) -> str:
    """The browser's binding value: the one it has (so two tabs can sign in at once), or a new one."""
    if cookie and BROWSER_VALUE.fullmatch(cookie):
        return cookie
    return random_token()


async def begin(
    rt: Parts,
    *,
    provider: str,
    redirect_to: str | None,
    browser_cookie: str | None,
    link_to: str | None = None,
    code_challenge: str | None = None,
    code_challenge_method: str | None = None,
    hosted: bool = False,
) -> Started:
    """Start a sign-in (or, with `link_to`, a link to that account) at the provider. A `hosted`
    flow was started by the hosted pages, whose callback answers as they do."""
    chosen = provider_named(rt, provider)
    target = checked_redirect(rt, redirect_to, page=hosted)
    challenge = code_exchange.checked_challenge(code_challenge, code_challenge_method, target)
    browser = browser_value(browser_cookie)
    state, row = one_time.token_row(
        purpose=OAUTH_STATE,
        user_id=link_to,
        lifetime=STATE_LIFETIME,
        redirect_to=target,
        address=_issued_to(provider, browser),
        data=HOSTED if hosted and challenge is None else challenge,
    )
    try:
        url = await chosen.authorization_url(
            state=state,
            nonce=_derived(rt, state, "nonce"),
            verifier=_derived(rt, state, "pkce verifier"),
            redirect_uri=callback_url(rt, provider),
        )
    except ProviderUnavailable as exc:
        raise provider_unavailable(str(exc)) from None
    async with rt.uow() as tx:
        if link_to is not None:
            await one_time_repo.purge(tx.db, user_id=link_to, purpose=OAUTH_STATE, now=row.created_at)
        await one_time_repo.add(tx.db, row=row)
    return Started(url=url, browser=browser)


@dataclass(frozen=True)
class Flow:
    """A flow whose state checked out: from here on, errors may go back to `redirect_to`."""

    provider: str
    state: str
    link_to: str | None
    redirect_to: str | None
    code_challenge: str | None = None  # a native app's sign-in: it ends in a code
    hosted: bool = False  # started by the hosted pages (`/ui/oauth/{provider}`)


async def take_state(rt: Parts, *, provider: str, state: str | None, browser_cookie: str | None) -> Flow:
    """Use the state up (once, whatever follows) and check it was started for this provider
    in this browser; 400 `invalid_state` otherwise."""
    if not state or len(state) > MAX_STATE_CHARS or not browser_cookie:
        raise invalid_state()
    async with rt.uow() as tx:
        row = await one_time_repo.consume_by_digest(
            tx.db,
            purpose=OAUTH_STATE,
            digest=digest(state),
            now=utcnow(),
            address=_issued_to(provider, browser_cookie),
            anonymous=True,
        )
    if row is None:
        raise invalid_state()
    hosted = row.data == HOSTED
    redirect_to = still_allowed(rt, row.redirect_to)
    challenge = None if hosted else row.data
    if challenge is not None and redirect_to is None:  # the app's URL left the allow-list meanwhile
        raise invalid_state()
    return Flow(
        provider=provider,
        state=state,
        link_to=row.user_id,
        redirect_to=redirect_to,
        code_challenge=challenge,
        hosted=hosted,
    )


@dataclass(frozen=True)
class Linked:
    provider: str


@dataclass(frozen=True)
class CodeIssued:
    """A native app's sign-in: the code to send to its `redirectTo`."""

    code: str


async def finish(
    rt: Parts, flow: Flow, *, code: str | None, error: str | None, ctx: RequestContext
) -> LoginResult | Linked | CodeIssued:
    """Exchange the code, then sign in or link (see the module docstring)."""
    if error is not None:
        reason = "".join(ch for ch in error[:64] if ch.isalnum() or ch == "_") or "error"
        raise oauth_denied(reason)
    if not code:
        raise oauth_failed("The provider sent no authorization code.")
    provider = provider_named(rt, flow.provider)
    grant = Grant(
        code=code,
        verifier=_derived(rt, flow.state, "pkce verifier"),
        nonce=_derived(rt, flow.state, "nonce"),
        redirect_uri=callback_url(rt, flow.provider),
    )
    try:
        identity = await provider.identify(grant)
    except ProviderRefused as exc:
        log.warning("oauth_refused", provider=flow.provider, reason=str(exc))
        raise oauth_failed(str(exc)) from None
    except ProviderUnavailable as exc:
        log.warning("oauth_provider_unavailable", provider=flow.provider, reason=str(exc))
        raise provider_unavailable(str(exc)) from None
    identity = _checked(identity)
    if flow.link_to is not None:
        await _link(rt, user_id=flow.link_to, provider=flow.provider, identity=identity, ctx=ctx)
        return Linked(provider=flow.provider)
    proofs = [OAUTH.proof(flow.provider)]
    async with rt.uow() as tx:
        user = await _account_for(tx, rt, provider=flow.provider, identity=identity, ctx=ctx)
        if flow.code_challenge is not None:
            return CodeIssued(
                await code_exchange.issue(tx, user_id=user.id, proofs=proofs, challenge=flow.code_challenge)
            )
        outcome = await gate.complete(tx, rt, user=user, proofs=proofs, ctx=ctx)
    return await gate.finish(rt, outcome)


async def _account_for(tx: UnitOfWork, rt: Parts, *, provider: str, identity: Identity, ctx: RequestContext) -> User:
    now = utcnow()
    linked = await identity_repo.find(tx.db, provider=provider, subject=identity.subject)
    if linked is not None:
        await identity_repo.touch(tx.db, identity_id=linked.id, email=identity.email, now=now)
        user = await user_repo.get(tx.db, user_id=linked.user_id)
        assert user is not None  # the link goes with the account
        return user
    address = _address(identity)
    existing = await user_repo.get_by_email(tx.db, email_key=email_key(address))
    if existing is None:
        user = _new_account(address, identity)
        await registration.add_user(tx, user=user)
        await _add_link(tx, user_id=user.id, provider=provider, identity=identity, ctx=ctx)
        return user
    if not (rt.settings.oauth_auto_link and identity.email_verified):
        raise identity_not_linked()
    # The provider proved the address: a never-verified account is claimed by it first, which
    # drops whatever its registrant set (and any identity linked before), then linked.
    proved = await prove_address(tx, rt, user_id=existing.id, email_key=existing.email_key)
    assert proved is not None  # the same transaction just read it with this address
    await _add_link(tx, user_id=proved.id, provider=provider, identity=identity, ctx=ctx)
    return proved


def _checked(identity: Identity) -> Identity:
    """What a provider says is text from outside: bounded and free of control characters
    before it is stored, so none of it can reach the database as an error. An email that is
    not a valid address is dropped (it then opens no new account)."""
    subject = identity.subject
    if not 0 < len(subject) <= MAX_SUBJECT_CHARS or has_control_characters(subject):
        raise oauth_failed("The provider's id for this person is not one we can use.")
    try:
        email = normalize_email(identity.email) if identity.email else None
    except ValueError:
        email = None
    name = strip_control_characters(identity.name or "").strip()[: registration.NAME_MAX] or None
    return replace(identity, email=email, name=name)


def _address(identity: Identity) -> str:
    if identity.email is None:
        raise oauth_failed("The provider did not share a usable email address; allow it to, then try again.")
    return identity.email


def _new_account(address: str, identity: Identity) -> User:
    """An account with no password (`password_hash` None): it signs in through the provider,
    or sets a first password through a reset link."""
    return User(
        email=address,
        email_key=email_key(address),
        username=None,
        username_key=None,
        name=identity.name,
        phone=None,
        password_hash=None,
        role="user",
        email_verified=identity.email_verified,
        phone_verified=False,
        mfa_enabled=False,
        disabled=False,
    )


async def _add_link(tx: UnitOfWork, *, user_id: str, provider: str, identity: Identity, ctx: RequestContext) -> None:
    now = utcnow()
    row = LinkedIdentity(
        user_id=user_id,
        provider=provider,
        subject=identity.subject,
        email=identity.email,
        created_at=now,
        last_used_at=now,
    )
    try:
        await identity_repo.add(tx.db, identity=row)
    except IdentityTaken:
        raise identity_taken("This account at the provider is linked already.") from None
    tx.audit("oauth.linked", user_id=user_id, ip_address=ctx.ip_address, user_agent=ctx.user_agent, provider=provider)
    tx.emit("oauth.linked", userId=user_id, provider=provider)


async def _link(rt: Parts, *, user_id: str, provider: str, identity: Identity, ctx: RequestContext) -> None:
    """Link the identity to the account that started the flow (in one transaction)."""
    async with rt.uow() as tx:
        user = await user_repo.lock(tx.db, user_id=user_id)
        if user is None or user.disabled:
            raise invalid_state()
        linked = await identity_repo.find(tx.db, provider=provider, subject=identity.subject)
        if linked is not None and linked.user_id == user_id:
            return
        if linked is not None:
            raise identity_taken("This account at the provider is linked to another account.")
        if any(i.provider == provider for i in await identity_repo.of_user(tx.db, user_id=user_id)):
            raise identity_taken("Another account at this provider is linked already; unlink it first.")
        await _add_link(tx, user_id=user_id, provider=provider, identity=identity, ctx=ctx)


async def unlink(rt: Parts, *, user_id: str, provider: str, ctx: RequestContext) -> None:
    """Remove the link, unless it is the account's last way to sign in (no password, no other
    provider, no passkey). The account row is locked, so two unlinks at once cannot both pass the check."""
    if not PROVIDER_NAME.fullmatch(provider):  # (a provider no longer configured may be unlinked)
        raise not_found("No identity at this provider is linked to your account.")
    async with rt.uow() as tx:
        user = await user_repo.lock(tx.db, user_id=user_id)
        if user is None or not await identity_repo.remove(tx.db, user_id=user_id, provider=provider):
            raise not_found("No identity at this provider is linked to your account.")
        if user.password_hash is None and await identity_repo.count(tx.db, user_id=user_id) == 0:
            if await passkey_repo.count(tx.db, user_id=user_id) == 0:
                raise last_sign_in_method()
        tx.audit(
            "oauth.unlinked", user_id=user_id, ip_address=ctx.ip_address, user_agent=ctx.user_agent, provider=provider
        )
        tx.emit("oauth.unlinked", userId=user_id, provider=provider)


async def linked_identities(rt: Parts, *, user_id: str) -> list[LinkedIdentity]:
    async with rt.read() as db:
        return await identity_repo.of_user(db, user_id=user_id)
