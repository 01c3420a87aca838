"""The providers configured in settings, by name (the `<NAME>` of `AUTHGATE_OAUTH_<NAME>_*`)."""

from __future__ import annotations

import httpx

from authgate.oauth.base import Provider
from authgate.oauth.github import GitHubProvider
from authgate.oauth.oidc import OidcProvider
from authgate.oauth.plain import PlainProvider
from authgate.settings import Settings

GOOGLE_ISSUER = "https://accounts.google.com"


def providers_from_settings(settings: Settings, http: httpx.AsyncClient) -> dict[str, Provider]:
    providers: dict[str, Provider] = {}
    for name, config in settings.oauth_providers.items():
        if name == "github" and not config.issuer:
            providers[name] = GitHubProvider(name, config, http)
        elif config.issuer or name == "google":
            providers[name] = OidcProvider(name, config, http, issuer=config.issuer or GOOGLE_ISSUER)
        else:
            providers[name] = PlainProvider(name, config, http)
    return providers
