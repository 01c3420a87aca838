"""Social login (docs/social-login.md): any number of providers, each from its own group of
`AUTHGATE_OAUTH_<NAME>_*` variables, gathered by a settings source of their own."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource

from authgate.settings.base import Section
from authgate.settings.types import HttpsUrl, SpacedList

BUILT_IN_PROVIDERS = ("github", "google")  # endpoints known; only the client id and secret needed
PROVIDER_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")  # as it appears in /oauth/<name>


class OAuthProviderSettings(BaseModel):
    """One sign-in provider, from `AUTHGATE_OAUTH_<NAME>_*` (docs/social-login.md).

    `issuer` means OpenID Connect (endpoints and keys by discovery); otherwise the three
    endpoint URLs of a plain OAuth 2.0 provider. GitHub and Google know their own endpoints,
    which these settings may still override (a GitHub Enterprise server, say)."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    client_id: str = Field(min_length=1)
    """The client id the provider issued; required."""
    client_secret: str = Field(min_length=1, repr=False)
    """The client secret the provider issued; required."""
    issuer: HttpsUrl = None
    """An OpenID Connect provider's issuer, exactly as its discovery document names it; endpoints and keys are
    discovered (`https://accounts.google.com` for `GOOGLE`). This URL and the three below must be `https`, except on
    `localhost`, `127.0.0.1` and `::1`."""
    authorize_url: HttpsUrl = None
    """A plain OAuth 2.0 provider's authorization endpoint (built in for `GITHUB`); with an issuer, overrides the
    discovered one."""
    token_url: HttpsUrl = None
    """A plain OAuth 2.0 provider's token endpoint (built in for `GITHUB`)."""
    userinfo_url: HttpsUrl = None
    """A plain OAuth 2.0 provider's user-info endpoint (built in for `GITHUB`)."""
    scopes: SpacedList = []
    """Space- or comma-separated; replaces the defaults (OpenID Connect `openid email profile`, GitHub `read:user
    user:email`, plain `email`)."""


def _providers(value: dict[str, OAuthProviderSettings]) -> dict[str, OAuthProviderSettings]:
    """Each name usable in /oauth/<name>, and each provider with its endpoints known."""
    for name, provider in value.items():
        prefix = f"AUTHGATE_OAUTH_{name.upper().replace('-', '_')}_"
        if not PROVIDER_NAME.fullmatch(name) or name == "link":
            raise ValueError(f"{prefix}*: the name must be letters, digits and '_' (up to 32), and not LINK")
        endpoints = (provider.authorize_url, provider.token_url, provider.userinfo_url)
        if name not in BUILT_IN_PROVIDERS and not provider.issuer and not all(endpoints):
            raise ValueError(
                f"{prefix}ISSUER (OpenID Connect), or {prefix}AUTHORIZE_URL, {prefix}TOKEN_URL and "
                f"{prefix}USERINFO_URL, must be set"
            )
    return value


OAuthProviders = Annotated[dict[str, OAuthProviderSettings], AfterValidator(_providers)]


class SocialLoginSettings(Section):
    oauth_providers: OAuthProviders = {}
    """Sign-in providers, one per `<NAME>`, from the `AUTHGATE_OAUTH_<NAME>_*` variables (docs/social-login.md)."""
    oauth_auto_link: bool = False
    """An identity whose email the provider marks verified is linked to the existing account with that email (claiming
    it if its address was never verified); otherwise such a sign-in is 409 `identity_not_linked`."""


OAUTH_FIELDS = tuple(OAuthProviderSettings.model_fields)
_OAUTH_VARIABLE = re.compile(r"^authgate_oauth_([a-z0-9_]+?)_(" + "|".join(OAUTH_FIELDS) + r")$")


class OAuthProvidersSource(PydanticBaseSettingsSource):
    """Collects the `AUTHGATE_OAUTH_<NAME>_<FIELD>` variables (environment over `.env`)
    into `oauth_providers`: their names are not known in advance, so no field can hold them."""

    def __init__(self, settings_cls: type[BaseSettings], *sources: EnvSettingsSource) -> None:
        super().__init__(settings_cls)
        self.sources = sources

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        providers: dict[str, dict[str, str]] = {}
        for source in reversed(self.sources):  # the first source wins
            for key, value in source.env_vars.items():
                found = _OAUTH_VARIABLE.match(key.lower())
                if found and value is not None:
                    providers.setdefault(found[1].replace("_", "-"), {})[found[2]] = value
        return {"oauth_providers": providers} if providers else {}
