"""One Settings object, read from the environment and `.env`, that refuses bad values at start.

Every variable the service uses lives here (docs/configuration.md); nothing else reads `os.environ`.
Each module holds one section of the settings, with the checks of its fields (their types, from
`types`) and the one rule spanning several of them; `Settings` inherits every section."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from pydantic import ValidationError
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from authgate.settings.abuse import HOSTED_CAPTCHAS, AbuseSettings, CaptchaProvider
from authgate.settings.delivery import DeliverySettings
from authgate.settings.http import HttpSettings
from authgate.settings.logs import LogSettings
from authgate.settings.mfa import MfaSettings
from authgate.settings.oauth import (
    BUILT_IN_PROVIDERS,
    OAUTH_FIELDS,
    PROVIDER_NAME,
    OAuthProviderSettings,
    OAuthProvidersSource,
    SocialLoginSettings,
)
from authgate.settings.passkeys import PasskeySettings, RelyingParty
from authgate.settings.passwords import PasswordSettings
from authgate.settings.provider import ProviderSettings
from authgate.settings.retention import RetentionSettings
from authgate.settings.storage import StorageSettings
from authgate.settings.tokens import EncryptionSettings, TokenSettings
from authgate.settings.types import LOOPBACK_HOSTS
from authgate.settings.ui import UiIdentifier, UiSettings
from authgate.settings.webhooks import WebhookSettings

__all__ = [
    "BUILT_IN_PROVIDERS",
    "ENV_NAMES",
    "HOSTED_CAPTCHAS",
    "LOOPBACK_HOSTS",
    "OAUTH_FIELDS",
    "PROVIDER_NAME",
    "CaptchaProvider",
    "ConfigError",
    "OAuthProviderSettings",
    "OAuthProvidersSource",
    "RelyingParty",
    "Settings",
    "UiIdentifier",
    "cpu_count",
    "env_name",
    "load_settings",
]


# The sections are listed last first: pydantic orders inherited fields from the last base to the
# first, and that order (tokens first) is the validation order and docs/configuration.md's table.
class Settings(
    LogSettings,
    ProviderSettings,
    UiSettings,
    SocialLoginSettings,
    WebhookSettings,
    DeliverySettings,
    PasskeySettings,
    MfaSettings,
    EncryptionSettings,
    AbuseSettings,
    PasswordSettings,
    HttpSettings,
    RetentionSettings,
    StorageSettings,
    TokenSettings,
    BaseSettings,
):
    model_config = SettingsConfigDict(
        env_prefix="AUTHGATE_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
        populate_by_name=True,
        use_attribute_docstrings=True,  # each field's docstring is its line in docs/configuration.md
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        assert isinstance(env_settings, EnvSettingsSource) and isinstance(dotenv_settings, DotEnvSettingsSource)
        providers = OAuthProvidersSource(settings_cls, env_settings, dotenv_settings)
        return init_settings, env_settings, dotenv_settings, providers, file_secret_settings

    @property
    def mail_from(self) -> str:
        return self.smtp_from or f"no-reply@{urlsplit(self.public_url).hostname}"


ENV_NAMES = {"jwt_secret": "JWT_SECRET", "jwt_expiration_ms": "JWT_EXPIRATION_MS"}


def env_name(field: str) -> str:
    """The environment variable that sets `field`."""
    return ENV_NAMES.get(field, f"AUTHGATE_{field.upper()}")


class ConfigError(Exception):
    """Configuration that cannot run; the message names the environment variable."""


def load_settings(**overrides: object) -> Settings:
    """Build Settings, turning pydantic's report into one line that names the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "?"
        env = field if field.isupper() else env_name(field)
        if field == "oauth_providers" and len(first["loc"]) >= 3:
            name, setting = str(first["loc"][1]), str(first["loc"][2])
            env = f"AUTHGATE_OAUTH_{name.upper().replace('-', '_')}_{setting.upper()}"
        elif field == "oauth_providers":  # the message names the provider's variables itself
            raise ConfigError(first["msg"].removeprefix("Value error, ")) from None
        if first["type"] == "missing":
            problem = "is required"
        elif env == "JWT_SECRET" and first["type"] == "string_too_short":
            problem = "must be at least 32 characters"
        else:
            problem = first["msg"].removeprefix("Value error, ")
        raise ConfigError(f"{env}{'' if problem.startswith('=') else ' '}{problem}") from None


def cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
