"""OAuth clients: the apps that sign their users in through authgate and the services that
call it with their own credentials, each a row of `oauth_clients`.

Three kinds, fixed when the client is made:

- `confidential`: a server-side app with a secret; the code flow and refresh tokens, and
  client credentials when allowed;
- `public`: a SPA, mobile, desktop or CLI app, which cannot keep a secret: the code flow with
  PKCE and refresh tokens, no secret at all;
- `service`: another service: client credentials only (token introspection's callers, the
  "service credentials" of `authgate service`, are these).

The client id is generated, never chosen. A secret (`agcs_`, a service's `agsvc_`, then 256
random bits) is shown once, when it is made; only its SHA-256 is kept (a slow hash adds
nothing to 256 random bits), so a new one replaces it at once. Checking one costs the same
for an unknown client id as for a known one: one lookup, one digest, one constant-time
comparison (against a decoy when there is nothing to compare with). Every check reads the
row, so a revocation or a new secret counts at once on every node; the last use is written
at most once a minute.

Making a client first party (it never asks a user's consent) is for the command line and
holders of `*` only. Revoking a client ends every grant it holds, in the same transaction.
Each change is one transaction with its audit entry, which never holds a secret.
"""

from __future__ import annotations

import hmac
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum
from typing import TYPE_CHECKING, Protocol

from authgate.core.parts import Parts
from authgate.errors import (
    AuthError,
    ErrorCode,
    FieldError,
    forbidden,
    invalid_client,
    not_found,
    problem,
    validation_failed,
)
from authgate.security.capabilities import ALL
from authgate.security.oauth2 import (
    DEFAULT_APP_SCOPES,
    MAX_REDIRECT_URIS,
    STANDARD_SCOPES,
    BadRedirectUri,
    checked_redirect_uri,
    is_scope_name,
    scope_list,
)
from authgate.security.opaque import digest, random_token
from authgate.security.text import has_control_characters
from authgate.services.pagination import decode_time_cursor, encode_time_cursor
from authgate.storage.models import OAuthClient, new_id, utcnow
from authgate.storage.models.oauth2 import CONFIDENTIAL, PUBLIC, SERVICE
from authgate.storage.repositories import oauth_clients as client_repo

if TYPE_CHECKING:
    from authgate.core.principal import Principal
    from authgate.storage.uow import UnitOfWork

KINDS = (CONFIDENTIAL, PUBLIC, SERVICE)
APP_SECRET_PREFIX = "agcs_"  # noqa: S105 (a prefix, not a secret): tells a leaked secret apart in a scan
SERVICE_SECRET_PREFIX = "agsvc_"  # noqa: S105 (as above)
SECRET_BYTES = 32  # 256 random bits
NAME_MAX = 100
CLIENT_ID_MAX = 36
AUDIENCE_MAX = 200
SCOPES_MAX = 100
TOUCH_EVERY = timedelta(minutes=1)  # how stale `last_used_at` may get
CLIENT_REVOKED = "client_revoked"  # why a grant ended, when its client was revoked

AUTHORIZATION_CODE = "authorization_code"
REFRESH_TOKEN = "refresh_token"  # noqa: S105 (a grant type's name)
CLIENT_CREDENTIALS = "client_credentials"
SECRET_METHODS = ("client_secret_basic", "client_secret_post")

# Compared against when there is no stored digest to compare with (an unknown client id, a
# public client), so that every check costs the same work: a secret no one was ever given.
_DECOY = digest(random_token(SECRET_BYTES))


Client = OAuthClient  # what the edge names a client by (it never imports storage)


class Registered(Protocol):
    """What the rules below read of a client (an `OAuthClient` row)."""

    @property
    def id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def redirect_uris(self) -> str: ...
    @property
    def post_logout_redirect_uris(self) -> str: ...
    @property
    def scopes(self) -> str: ...
    @property
    def client_credentials(self) -> bool: ...
    @property
    def access_token_audience(self) -> str | None: ...


class Default(Enum):
    DEFAULT = "default"


DEFAULT = Default.DEFAULT  # `ClientChange.access_token_audience`: back to the default (the client id)


@dataclass(frozen=True)
class NewClient:
    """A client to make. Its kind follows: no redirect URI, a service; else public when
    `public`, confidential otherwise. `scopes` None: the default of the kind."""

    name: str
    redirect_uris: Sequence[str] = ()
    post_logout_redirect_uris: Sequence[str] = ()
    public: bool = False
    first_party: bool = False
    scopes: Sequence[str] | None = None
    client_credentials: bool = False
    access_token_audience: str | None = None


@dataclass(frozen=True)
class ClientChange:
    """None: leave as it is. The kind never changes."""

    name: str | None = None
    redirect_uris: Sequence[str] | None = None
    post_logout_redirect_uris: Sequence[str] | None = None
    scopes: Sequence[str] | None = None
    first_party: bool | None = None
    access_token_audience: str | Default | None = None


@dataclass(frozen=True)
class Created:
    client: OAuthClient
    secret: str | None  # shown this once; None for a public client


@dataclass(frozen=True)
class ClientPage:
    items: list[OAuthClient]
    next_cursor: str | None


# --- what a client may do ------------------------------------------------------------------------


def redirect_uris(client: Registered) -> list[str]:
    return client.redirect_uris.split()


def post_logout_redirect_uris(client: Registered) -> list[str]:
    return client.post_logout_redirect_uris.split()


def scopes_of(client: Registered) -> list[str]:
    """The most the client may get: a request's scopes beyond these are dropped."""
    return scope_list(client.scopes)


def audience_of(client: Registered) -> str:
    """The `aud` of the access tokens it gets: its own, or else its client id."""
    return client.access_token_audience or client.id


def grant_types(client: Registered) -> list[str]:
    if client.kind == SERVICE:
        return [CLIENT_CREDENTIALS]
    if client.kind == CONFIDENTIAL and client.client_credentials:
        return [AUTHORIZATION_CODE, REFRESH_TOKEN, CLIENT_CREDENTIALS]
    return [AUTHORIZATION_CODE, REFRESH_TOKEN]


def token_endpoint_auth_methods(client: Registered) -> list[str]:
    return ["none"] if client.kind == PUBLIC else list(SECRET_METHODS)


def allows_grant(client: Registered, grant_type: str) -> bool:
    return grant_type in grant_types(client)


def plausible_id(client_id: str) -> bool:
    """Whether `client_id` could name a client: an id that cannot (empty, too long, or holding
    a NUL byte PostgreSQL would refuse) is never looked up; that it is malformed is no secret."""
    return 0 < len(client_id) <= CLIENT_ID_MAX and not has_control_characters(client_id)


def new_secret(kind: str) -> str:
    prefix = SERVICE_SECRET_PREFIX if kind == SERVICE else APP_SECRET_PREFIX
    return prefix + random_token(SECRET_BYTES)


# --- checking what a caller sent -----------------------------------------------------------------


def _is_administrator(rt: Parts, caller: Principal | None) -> bool:
    """The command line (no caller) or a holder of `*`: who may make a client first party."""
    return caller is None or ALL in rt.roles.caps(caller.user.role)


def _refuse_first_party(rt: Parts, caller: Principal | None) -> None:
    if not _is_administrator(rt, caller):
        raise forbidden("Only an administrator (the * capability) may make a client first party, or change that.")


def _checked_name(name: str, errors: list[FieldError]) -> str:
    name = name.strip()
    if not name or len(name) > NAME_MAX or has_control_characters(name):
        errors.append(FieldError("name", f"A name of 1 to {NAME_MAX} characters, without control characters."))
    return name


def _checked_uris(field: str, uris: Sequence[str], *, public: bool, errors: list[FieldError]) -> str:
    """The URIs, each once, space-separated as stored."""
    kept: list[str] = []
    if len(uris) > MAX_REDIRECT_URIS:
        errors.append(FieldError(field, f"At most {MAX_REDIRECT_URIS} URIs."))
        return ""
    for i, uri in enumerate(uris):
        try:
            checked = checked_redirect_uri(uri, public=public)
        except BadRedirectUri as bad:
            errors.append(FieldError(f"{field}.{i}", str(bad)))
            continue
        if checked not in kept:
            kept.append(checked)
    return " ".join(kept)


def _checked_scopes(scopes: Sequence[str], *, kind: str, errors: list[FieldError]) -> str:
    """The scopes, each once, space-separated as stored."""
    if len(scopes) > SCOPES_MAX:
        errors.append(FieldError("scopes", f"At most {SCOPES_MAX} scopes."))
        return ""
    bad = [name for name in scopes if not is_scope_name(name)]
    if bad:
        errors.append(
            FieldError("scopes", f"{bad[0]!r} is not a scope: 1 to 64 of a-z, 0-9 and the characters : . _ -")
        )
    elif kind == SERVICE and (standard := [name for name in scopes if name in STANDARD_SCOPES]):
        errors.append(
            FieldError(
                "scopes",
                f"A service client may have custom scopes only; {', '.join(standard)} are for apps that sign users in.",
            )
        )
    return " ".join(dict.fromkeys(scopes))


def _checked_audience(audience: str, errors: list[FieldError]) -> str:
    if (
        not audience
        or len(audience) > AUDIENCE_MAX
        or has_control_characters(audience)
        or any(ch.isspace() for ch in audience)
    ):
        errors.append(
            FieldError("accessTokenAudience", f"1 to {AUDIENCE_MAX} characters, without spaces or control characters.")
        )
    return audience


def _kind_of(new: NewClient, errors: list[FieldError]) -> str:
    if new.public:
        if new.client_credentials:
            errors.append(
                FieldError("clientCredentials", "A public client has no secret, so it cannot use client credentials.")
            )
        if not new.redirect_uris:
            errors.append(FieldError("redirectUris", "A public client needs at least one redirect URI."))
        return PUBLIC
    return CONFIDENTIAL if new.redirect_uris else SERVICE


def _service_rules(errors: list[FieldError], *, first_party: bool, post_logout: bool, redirect: bool) -> None:
    """What a service client cannot have: it signs no user in."""
    if redirect:
        errors.append(FieldError("redirectUris", "A service client has no redirect URIs; its kind cannot change."))
    if post_logout:
        errors.append(FieldError("postLogoutRedirectUris", "A service client signs no user in, or out."))
    if first_party:
        errors.append(FieldError("firstParty", "A service client asks no user's consent: it cannot be first party."))


def _audit(tx: UnitOfWork, action: str, client: OAuthClient) -> None:
    """A service client keeps the audit types service credentials always had."""
    if client.kind == SERVICE and action in ("created", "revoked"):
        tx.audit(f"service_credential.{action}", user_id=None, credential=client.id, name=client.name)
        return
    tx.audit(
        f"oauth2_client.{action}",
        user_id=None,
        client=client.id,
        name=client.name,
        kind=client.kind,
        firstParty=client.first_party,
    )


def _missing(kind: str | None) -> AuthError:
    return not_found("No such service credential." if kind == SERVICE else "No such client.")


def _revoked() -> AuthError:
    return problem(ErrorCode.CONFLICT, "Conflict", "The client is revoked.")


# --- managing clients ----------------------------------------------------------------------------


async def create(rt: Parts, new: NewClient, *, caller: Principal | None) -> Created:
    """A new client, and its secret (None for a public client), which is never shown again.
    `caller` None: the command line."""
    if new.first_party:
        _refuse_first_party(rt, caller)
    errors: list[FieldError] = []
    name = _checked_name(new.name, errors)
    kind = _kind_of(new, errors)
    public = kind == PUBLIC
    if kind == SERVICE:
        _service_rules(
            errors, first_party=new.first_party, post_logout=bool(new.post_logout_redirect_uris), redirect=False
        )
    uris = _checked_uris("redirectUris", new.redirect_uris, public=public, errors=errors)
    logout_uris = _checked_uris("postLogoutRedirectUris", new.post_logout_redirect_uris, public=public, errors=errors)
    wanted = new.scopes if new.scopes is not None else (() if kind == SERVICE else DEFAULT_APP_SCOPES)
    scopes = _checked_scopes(wanted, kind=kind, errors=errors)
    audience = _checked_audience(new.access_token_audience, errors) if new.access_token_audience is not None else None
    if errors:
        raise validation_failed(*errors)
    secret = None if public else new_secret(kind)
    client = OAuthClient(
        id=new_id(),
        name=name,
        kind=kind,
        secret_hash=digest(secret) if secret is not None else None,
        first_party=new.first_party,
        redirect_uris=uris,
        post_logout_redirect_uris=logout_uris,
        scopes=scopes,
        client_credentials=kind == SERVICE or (kind == CONFIDENTIAL and new.client_credentials),
        access_token_audience=audience,
        created_at=utcnow(),
    )
    async with rt.uow() as tx:
        await client_repo.add(tx.db, client=client)
        _audit(tx, "created", client)
    return Created(client, secret)


async def list_page(rt: Parts, *, cursor: str | None, limit: int) -> ClientPage:
    """Oldest first, revoked ones included; the cursor is the last shown client's (created_at, id)."""
    after = decode_time_cursor(cursor) if cursor else None
    async with rt.read() as db:
        rows = await client_repo.page(db, after=after, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if rows else None
    return ClientPage(rows, encode_time_cursor(last.created_at, last.id) if more and last else None)


async def list_clients(rt: Parts, *, kind: str | None = None) -> list[OAuthClient]:
    """Every client (of `kind`, when given), revoked ones included, oldest first."""
    async with rt.read() as db:
        return await client_repo.all_clients(db, kind=kind)


async def get(rt: Parts, *, client_id: str) -> OAuthClient:
    """The client, revoked or not; 404 `not_found` when there is none."""
    if not plausible_id(client_id):
        raise _missing(None)
    async with rt.read() as db:
        client = await client_repo.get(db, client_id=client_id)
    if client is None:
        raise _missing(None)
    return client


async def update(rt: Parts, *, client_id: str, change: ClientChange, caller: Principal | None) -> OAuthClient:
    """Apply the fields given. A revoked client cannot change (409 `conflict`)."""
    if not plausible_id(client_id):
        raise _missing(None)
    async with rt.uow() as tx:
        client = await client_repo.lock(tx.db, client_id=client_id)
        if client is None:
            raise _missing(None)
        if change.first_party is not None and change.first_party != client.first_party:
            _refuse_first_party(rt, caller)
        if client.revoked_at is not None:
            raise _revoked()
        errors: list[FieldError] = []
        public = client.kind == PUBLIC
        values: dict[str, object] = {}
        if client.kind == SERVICE:
            _service_rules(
                errors,
                first_party=bool(change.first_party),
                post_logout=bool(change.post_logout_redirect_uris),
                redirect=bool(change.redirect_uris),
            )
        if change.name is not None:
            values["name"] = _checked_name(change.name, errors)
        if change.redirect_uris is not None and client.kind != SERVICE:
            if not change.redirect_uris:
                errors.append(FieldError("redirectUris", "An app needs at least one redirect URI."))
            values["redirect_uris"] = _checked_uris("redirectUris", change.redirect_uris, public=public, errors=errors)
        if change.post_logout_redirect_uris is not None and client.kind != SERVICE:
            values["post_logout_redirect_uris"] = _checked_uris(
                "postLogoutRedirectUris", change.post_logout_redirect_uris, public=public, errors=errors
            )
        if change.scopes is not None:
            values["scopes"] = _checked_scopes(change.scopes, kind=client.kind, errors=errors)
        if change.first_party is not None:
            values["first_party"] = change.first_party
        if change.access_token_audience is DEFAULT:
            values["access_token_audience"] = None
        elif change.access_token_audience is not None:
            values["access_token_audience"] = _checked_audience(change.access_token_audience, errors)
        if errors:
            raise validation_failed(*errors)
        changed = {field: value for field, value in values.items() if getattr(client, field) != value}
        if changed:
            for field, value in changed.items():
                setattr(client, field, value)
            await tx.db.flush()
            _audit(tx, "updated", client)
    return client


async def rotate_secret(rt: Parts, *, client_id: str) -> tuple[OAuthClient, str]:
    """A new secret, shown this once; the old one is refused from now on. A public client has
    none, and a revoked one gets none (409 `conflict`)."""
    if not plausible_id(client_id):
        raise _missing(None)
    async with rt.uow() as tx:
        client = await client_repo.lock(tx.db, client_id=client_id)
        if client is None:
            raise _missing(None)
        if client.kind == PUBLIC:
            raise problem(ErrorCode.CONFLICT, "Conflict", "A public client has no secret: it proves itself with PKCE.")
        if client.revoked_at is not None:
            raise _revoked()
        secret = new_secret(client.kind)
        client.secret_hash = digest(secret)
        await tx.db.flush()
        _audit(tx, "secret_rotated", client)
    return client, secret


async def revoke(rt: Parts, *, client_id: str, kind: str | None = None) -> tuple[OAuthClient, bool]:
    """Revoke a client (of `kind`, when given: another is not found): its next request is
    refused, and every grant it holds ends now. Returns it, and whether this call revoked it
    (False: it was revoked already, and nothing changed)."""
    if not plausible_id(client_id):
        raise _missing(kind)
    async with rt.uow() as tx:
        client = await client_repo.lock(tx.db, client_id=client_id)
        if client is None or (kind is not None and client.kind != kind):
            raise _missing(kind)
        if client.revoked_at is not None:
            return client, False
        now = utcnow()
        client.revoked_at = now
        await tx.db.flush()
        await client_repo.end_grants(tx.db, client_id=client.id, now=now, reason=CLIENT_REVOKED)
        _audit(tx, "revoked", client)
    return client, True


# --- for the protocol endpoints ------------------------------------------------------------------


async def live_client(rt: Parts, client_id: str) -> OAuthClient | None:
    """The client, if it exists and is not revoked."""
    if not plausible_id(client_id):
        return None
    async with rt.read() as db:
        client = await client_repo.get(db, client_id=client_id)
    return client if client is not None and client.revoked_at is None else None


async def authenticate_client(rt: Parts, *, client_id: str, secret: str | None) -> OAuthClient:
    """The client, if it may act at the token endpoint: a public client sends no secret, any
    other sends its own; 401 `invalid_client` otherwise, or when it is revoked, after the same
    work whether or not the client id exists."""
    return await authenticate_as(rt, client_id=client_id, secret=secret, kinds=KINDS)


async def authenticate_as(rt: Parts, *, client_id: str, secret: str | None, kinds: Collection[str]) -> OAuthClient:
    """`authenticate_client`, for a client of one of `kinds` only (another is as unknown)."""
    now = utcnow()
    async with rt.read() as db:
        client = await client_repo.get(db, client_id=client_id) if plausible_id(client_id) else None
        if client is not None and client.kind not in kinds:
            client = None
        if secret is None:
            right = client is not None and client.kind == PUBLIC
        else:
            right = _secret_matches(client, secret) and client is not None and client.kind != PUBLIC
        if client is None or not right or client.revoked_at is not None:
            raise invalid_client()
        if client.last_used_at is None or client.last_used_at <= now - TOUCH_EVERY:
            await client_repo.touch(db, client_id=client.id, now=now, unless_since=now - TOUCH_EVERY)
    return client


def _secret_matches(client: OAuthClient | None, secret: str) -> bool:
    """The one secret check: the presented secret's digest against the client's, or against
    the decoy when there is none, in constant time either way."""
    stored = client.secret_hash if client is not None and client.secret_hash else _DECOY
    return hmac.compare_digest(digest(secret).encode("ascii"), stored.encode("ascii"))
