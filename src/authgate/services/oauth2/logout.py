"""RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): an app asks authgate to end
the browser's session, and may name where to send the browser afterwards.

A `post_logout_redirect_uri` is followed only when it is registered for the client named by
the `id_token_hint`'s audience or `client_id` (both given must agree): otherwise nothing is
signed out, so the endpoint is never an open redirector nor a logout by link. With a valid
hint, the session it names ends at once (the hint, signed by authgate for that session, is the
app's proof); without one, the browser is asked to confirm.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from authgate.core.parts import Parts
from authgate.security.oauth2 import redirect_uri_matches, with_query
from authgate.services.oauth2 import clients as client_service
from authgate.services.oauth2.authorize import Refused
from authgate.services.oauth2.tokens import read_id_token_hint
from authgate.signin.sessions import revoke_sessions
from authgate.storage.models import OAuthClient, utcnow
from authgate.storage.repositories import oauth_grants as grant_repo

RP_LOGOUT = "rp_logout"


@dataclass(frozen=True)
class Logout:
    """A checked logout request."""

    client: OAuthClient | None
    hint_subject: str | None
    hint_session: str | None
    post_logout_redirect_uri: str | None
    state: str | None

    def after(self) -> str | None:
        """Where the browser goes once signed out, if anywhere."""
        if self.post_logout_redirect_uri is None:
            return None
        return with_query(self.post_logout_redirect_uri, {"state": self.state})

    def fields(self) -> dict[str, str]:
        """The validated parameters, as the confirmation form carries them."""
        values = {
            "client_id": self.client.id if self.client is not None else None,
            "post_logout_redirect_uri": self.post_logout_redirect_uri,
            "state": self.state,
        }
        return {name: value for name, value in values.items() if value is not None}


async def check(rt: Parts, params: Mapping[str, str]) -> Logout:
    """The request, or `Refused` (an error page; nothing is signed out)."""
    hint = params.get("id_token_hint") or None
    claims = await read_id_token_hint(rt, hint) if hint else None
    if hint and claims is None:
        raise Refused("The id_token_hint is not an ID token of this provider.")
    client_id = params.get("client_id") or None
    hinted = None
    if claims is not None:
        audience = claims.get("aud")
        hinted = audience if isinstance(audience, str) else (audience[0] if audience else None)
        if client_id is not None and client_id != hinted:
            raise Refused("client_id and the id_token_hint name different apps.")
    named = client_id or hinted
    client = await client_service.live_client(rt, named) if named else None
    if named and client is None:
        raise Refused("The app is unknown or no longer allowed.")
    target = params.get("post_logout_redirect_uri") or None
    if target is not None:
        if client is None:
            raise Refused("post_logout_redirect_uri needs the app (client_id or id_token_hint).")
        public = client.kind == "public"
        if not redirect_uri_matches(client_service.post_logout_redirect_uris(client), target, public=public):
            raise Refused("post_logout_redirect_uri is not registered for this app.")
    state = params.get("state") or None
    if state is not None and len(state) > 512:
        raise Refused("state is too long.")
    return Logout(
        client=client,
        hint_subject=str(claims["sub"]) if claims is not None else None,
        hint_session=str(claims["sid"]) if claims is not None and claims.get("sid") else None,
        post_logout_redirect_uri=target,
        state=state,
    )


async def end_session(rt: Parts, *, session_id: str, user_id: str) -> bool:
    """End the session (if still live and the user's) and its online grants."""
    async with rt.uow() as tx:
        ended = await revoke_sessions(tx, rt, session_ids=[session_id], user_id=user_id, reason=RP_LOGOUT)
        await grant_repo.end(tx.db, now=utcnow(), reason=RP_LOGOUT, session_ids=[session_id], online_only=True)
    return bool(ended)
