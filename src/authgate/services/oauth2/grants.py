"""The token endpoint's grants (RFC 6749 §4.1.3, §6, §4.4) and revocation (RFC 7009).

- **authorization_code**: any exchange that passed client authentication and names a code
  uses it up, right or wrong; then the binding is checked (client, `redirect_uri`, PKCE, a
  live session). A code that comes back after it bought a grant is a replay: the grant ends.
  The code's use, the check and the new grant are one unit of work, so a replay racing the
  exchange either finds the grant or loses the code.
- **refresh_token**: each grant is its own refresh-token family, rotated as authgate's own
  sessions are (docs/sessions.md): one conditional UPDATE decides a race; the just-rotated
  token gets the same new pair back within the grace window; any other retired token is
  reuse and ends the grant (not the user's authgate session, nor other grants).
- **client_credentials**: an access token for the client itself (`sub` = `client_id`).

An online grant lives while its authgate session does; an offline one (`offline_access`)
outlives it, to its own idle and absolute ends.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from authgate.core.parts import Parts
from authgate.errors import AuthError, ErrorCode, oauth_error
from authgate.security.oauth2 import OFFLINE_ACCESS, custom_scopes, scope_list, verifier_matches
from authgate.security.opaque import digest, random_token
from authgate.services.oauth2 import clients as client_service
from authgate.services.oauth2.tokens import Authorization, access_token, id_token, read_access_token, wants_id_token
from authgate.storage.models import OAuthClient, OAuthGrant, OneTimeSecret, Session, User, new_id, utcnow
from authgate.storage.models.one_time import OAUTH_CODE, OAUTH_REVOKED
from authgate.storage.repositories import oauth_grants as grant_repo
from authgate.storage.repositories import one_time as one_time_repo
from authgate.storage.repositories import sessions as session_repo
from authgate.storage.repositories import users as user_repo
from authgate.storage.uow import UnitOfWork

REFRESH_BYTES = 32
BAD_CODE = "The code is not valid (unknown, expired, used, or another app's)."
BAD_REFRESH = "The refresh token is not valid, or its grant has ended."


@dataclass(frozen=True)
class Tokens:
    access_token: str
    expires_in: int
    scope: list[str]
    refresh_token: str | None = None
    id_token: str | None = None

    def body(self) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "access_token": self.access_token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "scope": " ".join(self.scope),
        }
        if self.refresh_token is not None:
            answer["refresh_token"] = self.refresh_token
        if self.id_token is not None:
            answer["id_token"] = self.id_token
        return answer


def invalid_grant(detail: str = BAD_CODE) -> AuthError:
    return oauth_error(ErrorCode.INVALID_GRANT, detail)


def _sealing_context(replaced: str) -> str:
    return f"oauth2-successor-of:{replaced}"


def live(grant: OAuthGrant, client: OAuthClient, user: User, browser: Session | None, now: datetime) -> bool:
    """Is the grant still good: not ended, not past its ends, its client and user live, and
    for an online grant its authgate session live."""
    if grant.revoked_at is not None or grant.expires_at <= now or grant.ends_at <= now:
        return False
    if client.revoked_at is not None or user.disabled:
        return False
    if not grant.offline:
        return browser is not None and browser.revoked_at is None and browser.expires_at > now
    return True


def _authorization(grant: OAuthGrant, user: User, scopes: list[str]) -> Authorization:
    return Authorization(
        user=user,
        scopes=scopes,
        session_id=grant.session_id,
        auth_time=grant.auth_time,
        amr=grant.amr.split(","),
        grant_id=grant.id,
    )


def _tokens(
    rt: Parts,
    client: OAuthClient,
    grant: OAuthGrant,
    user: User,
    *,
    refresh: str | None,
    scopes: list[str],
    nonce: str | None = None,
    issued_at: int | None = None,
    token_id: str | None = None,
) -> Tokens:
    subject = _authorization(grant, user, scopes)
    access = access_token(rt, client=client, scopes=scopes, subject=subject, issued_at=issued_at, token_id=token_id)
    identity = (
        id_token(rt, client=client, subject=subject, access=access, nonce=nonce, issued_at=issued_at)
        if wants_id_token(scopes)
        else None
    )
    return Tokens(access, rt.settings.access_ttl_seconds, scopes, refresh, identity)


# --- authorization_code --------------------------------------------------------------------------


async def exchange_code(
    rt: Parts, client: OAuthClient, *, code: str, redirect_uri: str | None, verifier: str | None
) -> Tokens:
    now = utcnow()
    code_hash = digest(code)
    problem: AuthError | None = None
    tokens: Tokens | None = None
    async with rt.uow() as tx:
        row = await one_time_repo.consume_by_digest(tx.db, purpose=OAUTH_CODE, digest=code_hash, now=now)
        if row is None:
            await _replayed(tx, rt, client, code_hash, now)
            problem = invalid_grant()
        else:
            bound = json.loads(row.data or "{}")
            problem = _binding_problem(client, bound, redirect_uri=redirect_uri, verifier=verifier)
            if problem is None:
                assert row.user_id is not None
                tokens, problem = await _start_grant(tx, rt, client, bound, user_id=row.user_id, code_hash=code_hash)
    if problem is not None:
        raise problem
    assert tokens is not None
    return tokens


def _binding_problem(
    client: OAuthClient, bound: dict[str, Any], *, redirect_uri: str | None, verifier: str | None
) -> AuthError | None:
    if bound.get("client") != client.id:
        return invalid_grant()
    if redirect_uri != bound.get("redirect_uri"):
        return invalid_grant("redirect_uri differs from the authorization request's.")
    challenge = bound.get("challenge")
    if challenge is None:
        if verifier is not None:  # PKCE downgrade (RFC 9700 §2.1.1)
            return invalid_grant("code_verifier was sent, but the authorization request had no code_challenge.")
        return None
    if verifier is None or not verifier_matches(verifier, challenge):
        return invalid_grant("The code_verifier does not match the code_challenge.")
    return None


async def _start_grant(
    tx: UnitOfWork, rt: Parts, client: OAuthClient, bound: dict[str, Any], *, user_id: str, code_hash: str
) -> tuple[Tokens | None, AuthError | None]:
    now = utcnow()
    user = await user_repo.get(tx.db, user_id=user_id)
    browser = await session_repo.get(tx.db, session_id=bound["sid"])
    if user is None or user.disabled:
        return None, invalid_grant("The user can no longer sign in.")
    if browser is None or browser.revoked_at is not None or browser.expires_at <= now:
        return None, invalid_grant("The sign-in session that issued the code has ended.")
    scopes: list[str] = bound["scopes"]
    offline = OFFLINE_ACCESS in scopes
    refresh = random_token(REFRESH_BYTES)
    ends_at = now + timedelta(seconds=rt.settings.session_max_seconds)
    grant = OAuthGrant(
        id=new_id(),
        client_id=client.id,
        user_id=user.id,
        session_id=bound["sid"],
        scopes=" ".join(scopes),
        offline=offline,
        auth_time=datetime.fromisoformat(bound["auth_time"]),
        amr=",".join(bound["amr"]),
        code_hash=code_hash,
        refresh_hash=digest(refresh),
        created_at=now,
        last_used_at=now,
        expires_at=min(now + timedelta(seconds=rt.settings.refresh_token_ttl_seconds), ends_at),
        ends_at=ends_at,
    )
    await grant_repo.add(tx.db, grant=grant)
    tx.audit(
        "oauth2.authorized",
        user_id=user.id,
        client=client.id,
        scopes=scopes,
        sessionId=grant.session_id,
        offline=offline,
    )
    tx.emit("oauth2.authorized", userId=user.id, clientId=client.id, scopes=scopes, offline=offline)
    return _tokens(rt, client, grant, user, refresh=refresh, scopes=scopes, nonce=bound.get("nonce")), None


async def _replayed(tx: UnitOfWork, rt: Parts, client: OAuthClient, code_hash: str, now: datetime) -> None:
    """A code presented after it bought a grant: that grant ends (RFC 6749 §4.1.2)."""
    grant = await grant_repo.by_code(tx.db, code_hash=code_hash)
    if grant is None or grant.client_id != client.id:
        return
    ended = await grant_repo.end(tx.db, now=now, reason="code_reused", grant_ids=[grant.id])
    tx.audit("oauth2.code_reused", user_id=grant.user_id, client=client.id, grantEnded=bool(ended))


# --- refresh_token -------------------------------------------------------------------------------


async def refresh(rt: Parts, client: OAuthClient, *, token: str, scope: str | None) -> Tokens:
    now = utcnow()
    presented = digest(token)
    grace = timedelta(seconds=rt.settings.refresh_reuse_grace_seconds)
    problem: AuthError | None = None
    tokens: Tokens | None = None
    async with rt.uow() as tx:
        grant = await grant_repo.by_refresh(tx.db, token_hash=presented)
        if grant is None:
            retired = await grant_repo.of_retired(tx.db, token_hash=presented)
            if retired is not None:
                await _reused(tx, retired, client)
            problem = invalid_grant(BAD_REFRESH)
        elif grant.client_id != client.id:
            problem = invalid_grant(BAD_REFRESH)  # another app's token: nothing ends
        else:
            tokens, problem = await _rotate(
                tx, rt, client, grant, presented=presented, scope=scope, now=now, grace=grace
            )
    if problem is not None:
        raise problem
    assert tokens is not None
    return tokens


async def _rotate(
    tx: UnitOfWork,
    rt: Parts,
    client: OAuthClient,
    grant: OAuthGrant,
    *,
    presented: str,
    scope: str | None,
    now: datetime,
    grace: timedelta,
) -> tuple[Tokens | None, AuthError | None]:
    parts = await grant_repo.with_parts(tx.db, grant_id=grant.id)
    assert parts is not None
    grant, _, user, browser = parts
    if not live(grant, client, user, browser, now):
        return None, invalid_grant(BAD_REFRESH)
    granted = scope_list(grant.scopes)
    scopes = granted
    if scope is not None:
        scopes = scope_list(scope)
        if not scopes or not set(scopes) <= set(granted):
            return None, oauth_error(ErrorCode.INVALID_SCOPE, "A scope beyond what was granted was asked.")
    if grant.refresh_hash == presented:
        new_token = random_token(REFRESH_BYTES)
        new_hash = digest(new_token)
        expires = min(now + timedelta(seconds=rt.settings.refresh_token_ttl_seconds), grant.ends_at)
        sealed = rt.box.seal(new_token, context=_sealing_context(presented))
        if await grant_repo.rotate(
            tx.db, grant_id=grant.id, presented=presented, new_hash=new_hash, sealed=sealed, now=now, expires_at=expires
        ):
            token_id = digest(f"oauth2-access-of:{new_hash}")[:32]
            issued = int(now.timestamp())
            return _tokens(
                rt, client, grant, user, refresh=new_token, scopes=scopes, issued_at=issued, token_id=token_id
            ), None
        refreshed = await grant_repo.get(tx.db, grant_id=grant.id)  # lost a race: read what the winner wrote
        assert refreshed is not None
        grant = refreshed
    # The just-rotated token: the same new pair within the grace window, else reuse.
    if grant.previous_refresh_hash == presented and grant.rotated_at is not None and now - grant.rotated_at <= grace:
        again = _successor(rt, grant, presented)
        if again is not None:
            token_id = digest(f"oauth2-access-of:{grant.refresh_hash}")[:32]
            issued = int(grant.rotated_at.timestamp())
            return _tokens(
                rt, client, grant, user, refresh=again, scopes=scopes, issued_at=issued, token_id=token_id
            ), None
    await _reused(tx, grant.id, client)
    return None, invalid_grant("The refresh token was already used; the grant has ended.")


def _again(
    rt: Parts,
    client: OAuthClient,
    grant: OAuthGrant,
    user: User,
    *,
    refresh: str,
    scopes: list[str],
    rotated_at: datetime,
) -> Tokens:
    """The tokens of a rotation: the same whenever they are made again for it (the grace window's
    answer), since their time and id come from the rotation."""
    token_id = digest(f"oauth2-access-of:{digest(refresh)}")[:32]
    issued = int(rotated_at.timestamp())
    return _tokens(rt, client, grant, user, refresh=refresh, scopes=scopes, issued_at=issued, token_id=token_id)


def _successor(rt: Parts, grant: OAuthGrant, presented: str) -> str | None:
    if grant.successor_sealed is None:
        return None
    try:
        token = rt.box.open(grant.successor_sealed, context=_sealing_context(presented))
    except ValueError:
        return None
    return token if digest(token) == grant.refresh_hash else None


async def _reused(tx: UnitOfWork, grant_id: str, client: OAuthClient) -> None:
    grant = await grant_repo.get(tx.db, grant_id=grant_id)
    if grant is None or grant.client_id != client.id:
        return
    ended = await grant_repo.end(tx.db, now=utcnow(), reason="refresh_token_reuse", grant_ids=[grant_id])
    tx.audit("oauth2.refresh_token_reused", user_id=grant.user_id, client=client.id, grantEnded=bool(ended))


# --- client_credentials --------------------------------------------------------------------------


def client_credentials(rt: Parts, client: OAuthClient, *, scope: str | None) -> Tokens:
    registered = custom_scopes(client_service.scopes_of(client))
    scopes = registered if scope is None else scope_list(scope)
    if not set(scopes) <= set(registered):
        raise oauth_error(ErrorCode.INVALID_SCOPE, "A scope this client is not registered for was asked.")
    access = access_token(rt, client=client, scopes=scopes, subject=None)
    return Tokens(access, rt.settings.access_ttl_seconds, scopes)


# --- revocation ----------------------------------------------------------------------------------


async def revoke(rt: Parts, client: OAuthClient, *, token: str, hint: str | None) -> None:
    """RFC 7009: either token of a grant ends the grant; a client-credentials access token is
    refused until it expires. Another app's, unknown or spent tokens: nothing happens."""
    now = utcnow()
    grant_id: str | None = None
    claims: dict[str, Any] | None = None
    if token.count(".") == 2:
        try:
            claims = await read_access_token(rt, token)
        except AuthError:
            claims = None
        if claims is None or claims.get("client_id") != client.id:
            return
        grant_id = claims.get("gid")
    async with rt.uow() as tx:
        if claims is not None and grant_id is None:
            expires = datetime.fromtimestamp(int(claims["exp"]), tz=now.tzinfo)
            if expires > now:  # one row per token, however many ask at once
                await one_time_repo.add_once(tx.db, row=_denied(digest(f"oauth2-jti:{claims['jti']}"), now, expires))
                tx.audit("oauth2.token_revoked", user_id=None, client=client.id, by=client.id)
            return
        if grant_id is None:
            grant = await grant_repo.by_refresh(tx.db, token_hash=digest(token))
            if grant is None or grant.client_id != client.id:
                return
            grant_id = grant.id
        ended = await grant_repo.end(tx.db, now=now, reason="token_revoked", grant_ids=[grant_id])
        if ended:
            tx.audit("oauth2.token_revoked", user_id=ended[0].user_id, client=client.id, by=client.id)


def _denied(jti_hash: str, now: datetime, expires: datetime) -> OneTimeSecret:
    return OneTimeSecret(
        id=new_id(),
        purpose=OAUTH_REVOKED,
        user_id=None,
        digest=jti_hash,
        attempts=0,
        max_attempts=0,
        created_at=now,
        expires_at=expires,
    )


async def denied(rt: Parts, jti: str) -> bool:
    """Was this client-credentials token revoked?"""
    async with rt.read() as db:
        row = await one_time_repo.find(db, purpose=OAUTH_REVOKED, digest=digest(f"oauth2-jti:{jti}"))
    return row is not None
