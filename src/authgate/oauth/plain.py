"""A plain OAuth 2.0 provider: configured authorize, token and user-info URLs, and the
identity read from the user info (`sub`, or `id`; `email`; `email_verified`)."""

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


class PlainProvider:
    scopes = ["email"]

    def __init__(self, name: str, config: OAuthProviderSettings, http: httpx.AsyncClient) -> None:
        assert config.authorize_url and config.token_url and config.userinfo_url  # checked by Settings
        self.name = name
        self.config = config
        self.http = http
        self.authorize_endpoint, self.token_endpoint, self.userinfo_endpoint = (
            config.authorize_url,
            config.token_url,
            config.userinfo_url,
        )

    async def authorization_url(self, *, state: str, nonce: str, verifier: str, redirect_uri: str) -> str:
        del nonce
        return authorization_url(
            self.authorize_endpoint,
            self.config,
            scopes=self.scopes,
            state=state,
            verifier=verifier,
            redirect_uri=redirect_uri,
        )

    async def identify(self, grant: Grant) -> Identity:
        tokens = await exchange_code(self.http, self.token_endpoint, self.config, grant)
        info = await get_json(self.http, self.userinfo_endpoint, tokens["access_token"])
        subject = info.get("sub", info.get("id")) if isinstance(info, dict) else None
        if not isinstance(subject, (str, int)) or isinstance(subject, bool) or subject == "":
            raise ProviderRefused("The provider did not say who signed in.")
        return Identity(
            subject=str(subject),
            email=text_claim(info, "email"),
            email_verified=verified_flag(info.get("email_verified")),
            name=text_claim(info, "name"),
        )
