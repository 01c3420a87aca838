"""The authorization endpoint's decisions (OIDC Core §3.1.2): check the request, then sign in,
ask consent, or give the app its code.

The checks run in a fixed order. Until the client and its redirect URI are known good, nothing
is ever sent to the redirect URI (RFC 9700 §4.11): the caller shows an error page. After that
every refusal goes back to the app by redirect, with `state` and `iss` (RFC 9207: a client
that talks to several providers can tell which one answered).

A browser that must sign in (or consent) leaves a *pending request* in the one-time store
(purpose `oauth_request`, 30 minutes), bound to the browser by the digest of its
`authgate-oauth` cookie: only the browser that started the request can finish it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta

from authgate.core.parts import Parts
from authgate.core.principal import Principal
from authgate.security.oauth2 import (
    is_code_challenge,
    redirect_uri_matches,
    scope_list,
    with_query,
    within,
)
from authgate.security.opaque import digest, random_token
from authgate.services.oauth2 import clients as client_service
from authgate.services.oauth2 import consents
from authgate.services.oauth2.tokens import read_id_token_hint
from authgate.signin.one_time import token_row
from authgate.storage.models import OAuthClient, utcnow
from authgate.storage.models.one_time import OAUTH_CODE, OAUTH_REQUEST
from authgate.storage.repositories import one_time as one_time_repo
from authgate.storage.uow import UnitOfWork

PENDING_LIFETIME = timedelta(minutes=30)
CODE_LIFETIME = timedelta(seconds=60)
MAX_ECHO = 512  # state and nonce
PROMPTS = frozenset({"none", "login", "consent", "select_account"})
SINGLE = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "response_mode",
    "prompt",
    "max_age",
    "id_token_hint",
    "login_hint",
    "ui_locales",
    "claims_locales",
    "display",
    "acr_values",
    "claims",
    "request",
    "request_uri",
    "registration",
)
MAX_VALUE = 4096


class Refused(Exception):
    """Step 1: the client or its redirect URI is not good; show an error page, never redirect."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass(frozen=True)
class ToApp:
    """Send the browser to the app: its code, or an error."""

    url: str
    outcome: str  # for the metric: code, or the error


@dataclass(frozen=True)
class SignIn:
    """The browser must sign in (`fresh`: anew, although it has a session)."""

    fresh: bool


@dataclass(frozen=True)
class AskConsent:
    pass


Decision = ToApp | SignIn | AskConsent


@dataclass(frozen=True)
class Request:
    """A checked authorization request: what is kept while the browser signs in or consents."""

    client_id: str
    redirect_uri: str
    scopes: list[str]
    state: str | None = None
    nonce: str | None = None
    code_challenge: str | None = None
    prompt: list[str] = field(default_factory=list)
    max_age: int | None = None
    login_hint: str | None = None
    ui_locales: str | None = None
    hint_subject: str | None = None
    posted: bool = False
    fresh_after: str | None = None  # ISO time: a sign-in must be newer than this


def error_url(rt: Parts, redirect_uri: str, error: str, description: str, state: str | None) -> str:
    return with_query(
        redirect_uri,
        {"error": error, "error_description": description, "state": state, "iss": rt.settings.issuer},
    )


class _Redirected(Exception):
    def __init__(self, error: str, description: str) -> None:
        super().__init__(error)
        self.error = error
        self.description = description


@dataclass(frozen=True)
class Checked:
    """A request that passed the checks, with its client."""

    client: OAuthClient
    request: Request


async def check(rt: Parts, params: Sequence[tuple[str, str]], *, posted: bool) -> Checked | ToApp:
    """The request, checked (steps 1 to 5 and the `id_token_hint`): raises `Refused` for step 1;
    a later refusal is the redirect to the app."""
    values: dict[str, str] = {}
    twice: list[str] = []
    for name, value in params:
        if name in values and name in SINGLE:
            twice.append(name)
        values.setdefault(name, value)
    client_id = values.get("client_id", "")
    client = await client_service.live_client(rt, client_id) if client_id else None
    if client is None:
        raise Refused("The app is unknown or no longer allowed (client_id).")
    redirect_uri = values.get("redirect_uri", "")
    if not redirect_uri:
        raise Refused("The request names no redirect_uri.")
    public = client.kind == "public"
    if "redirect_uri" in twice or not redirect_uri_matches(
        client_service.redirect_uris(client), redirect_uri, public=public
    ):
        raise Refused("The redirect_uri is not registered for this app.")
    state = values.get("state")
    if state is not None and len(state) > MAX_ECHO:  # refused without echoing it
        return ToApp(error_url(rt, redirect_uri, "invalid_request", "state is too long.", None), "invalid_request")
    try:
        request = await _checked(rt, client, values, twice, redirect_uri=redirect_uri, state=state, posted=posted)
    except _Redirected as exc:
        return ToApp(error_url(rt, redirect_uri, exc.error, exc.description, state), exc.error)
    return Checked(client, request)


async def _checked(
    rt: Parts,
    client: OAuthClient,
    values: dict[str, str],
    twice: list[str],
    *,
    redirect_uri: str,
    state: str | None,
    posted: bool,
) -> Request:
    if twice:
        raise _Redirected("invalid_request", f"{twice[0]} was sent more than once.")
    for name in ("request", "request_uri", "registration"):
        if name in values:
            raise _Redirected(f"{name}_not_supported", f"The {name} parameter is not supported.")
    if any(len(value) > MAX_VALUE for value in values.values()):
        raise _Redirected("invalid_request", "A parameter is too long.")
    response_type = values.get("response_type")
    if not response_type:
        raise _Redirected("invalid_request", "response_type is required.")
    if response_type != "code":
        raise _Redirected("unsupported_response_type", "Only response_type=code is supported.")
    if values.get("response_mode", "query") != "query":
        raise _Redirected("invalid_request", "Only response_mode=query is supported.")
    scopes = within(scope_list(values.get("scope")), client_service.scopes_of(client))
    if not scopes:
        raise _Redirected("invalid_scope", "None of the requested scopes is allowed for this app.")
    challenge = values.get("code_challenge")
    method = values.get("code_challenge_method")
    if challenge is None:
        if method is not None:
            raise _Redirected("invalid_request", "code_challenge_method without code_challenge.")
        if client.kind == "public":
            raise _Redirected("invalid_request", "This app must send a PKCE code_challenge (S256).")
    elif method != "S256" or not is_code_challenge(challenge):
        raise _Redirected("invalid_request", "PKCE needs code_challenge_method=S256 and a 43-128 character challenge.")
    nonce = values.get("nonce")
    if nonce is not None and len(nonce) > MAX_ECHO:
        raise _Redirected("invalid_request", "nonce is too long.")
    prompt = scope_list(values.get("prompt"))
    if any(value not in PROMPTS for value in prompt):
        raise _Redirected("invalid_request", "prompt has an unknown value.")
    if "none" in prompt and len(prompt) > 1:
        raise _Redirected("invalid_request", "prompt=none cannot be combined with other values.")
    max_age = values.get("max_age")
    if max_age is not None and not (max_age.isascii() and max_age.isdigit() and len(max_age) < 10):
        raise _Redirected("invalid_request", "max_age must be a non-negative integer.")
    hint_subject = None
    if hint := values.get("id_token_hint"):
        claims = await read_id_token_hint(rt, hint)
        if claims is None:
            raise _Redirected("invalid_request", "The id_token_hint is not an ID token of this provider.")
        hint_subject = str(claims.get("sub"))
    return Request(
        client_id=client.id,
        redirect_uri=redirect_uri,
        scopes=scopes,
        state=state,
        nonce=nonce,
        code_challenge=challenge,
        prompt=prompt,
        max_age=int(max_age) if max_age is not None else None,
        login_hint=values.get("login_hint"),
        ui_locales=values.get("ui_locales"),
        hint_subject=hint_subject,
        posted=posted,
    )


def _must_sign_in(request: Request, viewer: Principal | None) -> SignIn | None:
    if viewer is None:
        return SignIn(fresh=False)
    if request.hint_subject is not None and request.hint_subject != viewer.user_id:
        return SignIn(fresh=True)
    if request.fresh_after is not None:  # coming back from a sign-in: it must be newer than the request
        fresh = viewer.session.created_at > datetime.fromisoformat(request.fresh_after)
        return None if fresh else SignIn(fresh=True)
    if "login" in request.prompt or "select_account" in request.prompt:
        return SignIn(fresh=True)
    if request.max_age is not None:
        age = (utcnow() - viewer.session.created_at).total_seconds()
        if request.max_age == 0 or age > request.max_age:
            return SignIn(fresh=True)
    return None


async def decide(rt: Parts, checked: Checked, viewer: Principal | None, *, can_sign_in: bool) -> Decision:
    """Steps 6 to 8: sign in, consent, or the code."""
    client, request = checked.client, checked.request
    sign_in = _must_sign_in(request, viewer)
    if sign_in is not None:
        if "none" in request.prompt:
            return refusal(rt, request, "login_required", "The user is not signed in.")
        if not can_sign_in:
            return refusal(rt, request, "login_required", "The user must sign in, and this server has no sign-in page.")
        return sign_in
    assert viewer is not None
    if not client.first_party:
        asked = "consent" in request.prompt
        if asked or not await consents.covers(rt, user_id=viewer.user_id, client_id=client.id, scopes=request.scopes):
            if "none" in request.prompt:
                return refusal(rt, request, "consent_required", "The user has not allowed this app these scopes.")
            return AskConsent()
    return await issue_code(rt, request, viewer)


def refusal(rt: Parts, request: Request, error: str, description: str) -> ToApp:
    return ToApp(error_url(rt, request.redirect_uri, error, description, request.state), error)


def denied(rt: Parts, request: Request) -> ToApp:
    return refusal(rt, request, "access_denied", "The user did not allow this app.")


async def issue_code(rt: Parts, request: Request, viewer: Principal) -> ToApp:
    """Step 8: a code of 256 random bits, 60 seconds, bound to everything the exchange checks."""
    async with rt.uow() as tx:
        return await _code(tx, rt, request, viewer)


async def _code(tx: UnitOfWork, rt: Parts, request: Request, viewer: Principal) -> ToApp:
    binding = {
        "client": request.client_id,
        "redirect_uri": request.redirect_uri,
        "challenge": request.code_challenge,
        "nonce": request.nonce,
        "scopes": request.scopes,
        "sid": viewer.session_id,
        "auth_time": viewer.session.created_at.isoformat(),
        "amr": viewer.session.amr.split(","),
    }
    code, row = token_row(purpose=OAUTH_CODE, user_id=viewer.user_id, lifetime=CODE_LIFETIME, data=json.dumps(binding))
    await one_time_repo.add(tx.db, row=row)
    url = with_query(request.redirect_uri, {"code": code, "state": request.state, "iss": rt.settings.issuer})
    return ToApp(url, "code")


# --- pending requests ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expired:
    """A pending request that took too long."""


async def keep_pending(rt: Parts, request: Request, *, binding: str, sign_in: bool) -> str:
    """Store the request for the browser holding `binding`; its id (≥ 128 bits). One kept for
    a sign-in accepts only a session that starts after it."""
    if sign_in and request.fresh_after is None:
        request = replace(request, fresh_after=utcnow().isoformat())
    request_id, row = token_row(
        purpose=OAUTH_REQUEST,
        user_id=None,
        lifetime=PENDING_LIFETIME,
        address=digest(binding),
        data=json.dumps(asdict(request)),
    )
    async with rt.uow() as tx:
        await one_time_repo.add(tx.db, row=row)
    return request_id


async def pending(rt: Parts, request_id: str, *, binding: str | None) -> Request | Expired | None:
    """The live, unused request `request_id` of this browser; `Expired` if it took too long;
    None if it is unknown, used, or another browser's."""
    if not request_id or not binding or len(request_id) > 128:
        return None
    async with rt.read() as db:
        row = await one_time_repo.find(db, purpose=OAUTH_REQUEST, digest=digest(request_id))
    if row is None or row.used_at is not None or row.address != digest(binding) or row.data is None:
        return None
    if row.expires_at <= utcnow():
        return Expired()
    return Request(**json.loads(row.data))


async def spend_pending(rt: Parts, request_id: str, *, binding: str) -> bool:
    """Use the request up (when its code or error is sent); True for one caller only."""
    async with rt.uow() as tx:
        return await _spent(tx, request_id, binding)


async def _spent(tx: UnitOfWork, request_id: str, binding: str) -> bool:
    row = await one_time_repo.consume_by_digest(
        tx.db, purpose=OAUTH_REQUEST, digest=digest(request_id), now=utcnow(), address=digest(binding), anonymous=True
    )
    return row is not None


async def consented(
    rt: Parts, request_id: str, request: Request, viewer: Principal, *, binding: str, allow: bool
) -> ToApp | None:
    """The consent page's decision, in one unit of work: the pending request spent, and on
    "allow" the consent recorded (the union of the earlier scopes and these) with the code
    issued; on "deny", `access_denied`. None when the request was spent already."""
    scopes = await consents.to_ask(rt, user_id=viewer.user_id, client_id=request.client_id, scopes=request.scopes)
    async with rt.uow() as tx:
        if not await _spent(tx, request_id, binding):
            return None
        if not allow:
            return denied(rt, request)
        await consents.put(tx, user_id=viewer.user_id, client_id=request.client_id, scopes=scopes)
        return await _code(tx, rt, request, viewer)


def new_binding() -> str:
    return random_token(16)
