"""GitHub: OAuth 2.0 with its REST API for the identity (GitHub has no OpenID Connect for
users). The subject is the numeric user id, which survives a change of login name; the email
is the one GitHub marks primary, verified only if GitHub says so."""

from __future__ import annotations

import httpx

from authgate.oauth.base import (
    Grant,
    Identity,
    ProviderRefused,
    authorization_url,
    exchange_code,
    get_json,
    text_claim,
    verified_flag,
)
from authgate.settings import OAuthProviderSettings

AUTHORIZE_URL = "https://github.com/login/oauth/authorize"
TOKEN_URL = "https://github.com/login/oauth/access_token"  # noqa: S105 (a URL, not a secret)
USER_URL = "https://api.github.com/user"


class GitHubProvider:
    scopes = ["read:user", "user:email"]

    def __init__(self, name: str, config: OAuthProviderSettings, http: httpx.AsyncClient) -> None:
        self.name = name
        self.config = config
        self.http = http
        self.user_url = (config.userinfo_url or USER_URL).rstrip("/")

    async def authorization_url(self, *, state: str, nonce: str, verifier: str, redirect_uri: str) -> str:
        del nonce  # no identity token, nothing to bind it to
        return authorization_url(
            self.config.authorize_url or AUTHORIZE_URL,
            self.config,
            scopes=self.scopes,
            state=state,
            verifier=verifier,
            redirect_uri=redirect_uri,
        )

    async def identify(self, grant: Grant) -> Identity:
        tokens = await exchange_code(
            self.http, self.config.token_url or TOKEN_URL, self.config, grant, secret_in_body=True
        )
        user = await get_json(self.http, self.user_url, tokens["access_token"])
        if not isinstance(user, dict) or not isinstance(user.get("id"), int):
            raise ProviderRefused("GitHub did not say who signed in.")
        emails = await get_json(self.http, f"{self.user_url}/emails", tokens["access_token"])
        primary = (
            next((e for e in emails if isinstance(e, dict) and e.get("primary") is True), None)
            if isinstance(emails, list)
            else None
        )
        email = text_claim(primary, "email") if primary else None
        return Identity(
            subject=str(user["id"]),
            email=email,
            email_verified=email is not None and verified_flag(primary.get("verified") if primary else None),
            name=text_claim(user, "name") or text_claim(user, "login"),
        )
