"""One Settings object, read from the environment and `.env`, that refuses bad values at start.

Every variable the service uses lives here (docs/configuration.md); nothing else reads `os.environ`.
"""

from __future__ import annotations

import os
import re
from functools import cached_property
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from limits import RateLimitItem
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from authgate.abuse.rules import parse_rules, sms_budget


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _absolute_url(value: str | None, *, https_unless_loopback: bool = False) -> str | None:
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(f"{value!r} must be an absolute http(s) URL")
    if https_unless_loopback and parts.scheme != "https" and parts.hostname not in LOOPBACK_HOSTS:
        raise ValueError(f"{value!r} must use https (plain http only on this machine, for development)")
    return value


LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}
CaptchaProvider = Literal["none", "turnstile", "hcaptcha", "recaptcha", "altcha"]
HOSTED_CAPTCHAS = ("turnstile", "hcaptcha", "recaptcha")  # verified by the provider, with its secret
BUILT_IN_PROVIDERS = ("github", "google")  # endpoints known; only the client id and secret needed
PROVIDER_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")  # as it appears in /oauth/<name>


class OAuthProviderSettings(BaseModel):
    """One sign-in provider, from `AUTHGATE_OAUTH_<NAME>_*` (docs/social-login.md).

    `issuer` means OpenID Connect (endpoints and keys by discovery); otherwise the three
    endpoint URLs of a plain OAuth 2.0 provider. GitHub and Google know their own endpoints,
    which these settings may still override (a GitHub Enterprise server, say)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    client_id: str = Field(min_length=1)
    client_secret: str = Field(min_length=1, repr=False)
    issuer: str | None = None
    authorize_url: str | None = None
    token_url: str | None = None
    userinfo_url: str | None = None
    scopes: Annotated[list[str], NoDecode] = []

    @field_validator("scopes", mode="before")
    @classmethod
    def _scopes(cls, value: object) -> object:
        if isinstance(value, str):
            return [part for part in re.split(r"[\s,]+", value) if part]
        return value

    @field_validator("issuer", "authorize_url", "token_url", "userinfo_url")
    @classmethod
    def _urls(cls, value: str | None) -> str | None:
        return _absolute_url(value, https_unless_loopback=True)


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


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="AUTHGATE_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
        populate_by_name=True,
    )

    # --- tokens -------------------------------------------------------------------------
    jwt_secret: str = Field(validation_alias=AliasChoices("JWT_SECRET"), min_length=32)
    jwt_expiration_ms: int = Field(default=900_000, validation_alias=AliasChoices("JWT_EXPIRATION_MS"), gt=0)
    jwt_audience: str = "authgate"
    jwt_algorithm: Literal["HS256", "EdDSA", "ES256", "RS256"] = "HS256"  # asymmetric: keys in the database
    key_rotation_seconds: int = Field(default=0, ge=0)  # rotate the signing key this often; 0: only by command
    key_grace_seconds: int = Field(default=3600, ge=0)  # a retired key verifies (and is published) this long
    refresh_token_ttl_seconds: int = Field(default=2_592_000, gt=0)
    refresh_reuse_grace_seconds: int = Field(default=10, ge=0)
    session_max_seconds: int = Field(default=7_776_000, gt=0)  # 90 days, whatever the refreshes
    reauth_max_age_seconds: int = Field(default=300, ge=0)  # how recent a sign-in a sensitive change needs

    # --- storage ------------------------------------------------------------------------
    database_url: str = "sqlite+aiosqlite:///./authgate.db"
    redis_url: str | None = None
    redis_key_prefix: str = Field(default="authgate:", min_length=1, max_length=64)  # several deployments, one Redis
    database_pool_size: int = Field(default=10, ge=1, le=1000)  # connections each process keeps open
    database_max_overflow: int = Field(default=10, ge=0, le=1000)  # extra connections under a burst
    database_pool_timeout_seconds: float = Field(default=10.0, gt=0)  # wait for a free connection, then 503
    database_connect_timeout_seconds: float = Field(default=5.0, gt=0)  # an unreachable database fails this fast

    # --- retention: what the server deletes by itself, in batches ---------------------------
    retention_interval_seconds: int = Field(default=60, ge=0)  # how often a purge runs; 0: never
    retention_batch_size: int = Field(default=500, ge=1, le=10_000)  # rows per statement
    retention_expired_seconds: int = Field(default=86_400, ge=0)  # one-time links, codes, decoys, after they expire
    retention_sessions_seconds: int = Field(default=604_800, ge=0)  # sessions, after they end or are revoked
    retention_outbox_seconds: int = Field(default=604_800, ge=0)  # messages and deliveries sent or given up
    retention_events_seconds: int = Field(default=604_800, ge=0)  # events, after they are handed to webhooks

    # --- http ---------------------------------------------------------------------------
    public_url: str = "http://127.0.0.1:8000"
    route_prefixes: Annotated[list[str], NoDecode] = ["/", "/auth", "/api/auth", "/api/v1/auth"]
    trusted_proxies: Annotated[list[str], NoDecode] = []
    redirect_allowlist: Annotated[list[str], NoDecode] = []
    cors_origins: Annotated[list[str], NoDecode] = []  # browser origins that may call with credentials
    cookie_secure: bool = True
    cookie_domain: str | None = None  # e.g. example.com: the cookies reach its subdomains too
    max_body_bytes: int = Field(default=65_536, gt=0)
    shutdown_timeout_seconds: float = Field(default=30.0, ge=0)  # in-flight requests get this long on SIGTERM
    metrics_token: str | None = Field(default=None, min_length=32, repr=False)  # Bearer token /metrics asks for

    # --- passwords ----------------------------------------------------------------------
    bcrypt_rounds: int = Field(default=12, ge=4, le=31)
    password_min_length: int = Field(default=8, ge=1, le=128)
    password_require_mixed: bool = True
    password_block_common: bool = True
    require_email_verification: bool = False

    # --- abuse protection (docs/abuse-protection.md) ---------------------------------------
    lockout_threshold: int = Field(default=5, ge=1)
    lockout_seconds: int = Field(default=900, ge=1)
    rate_limits: str = "on"  # on, off, or overrides: "login.ip=20/minute, oauth.ip=off"
    sms_daily_budget: int = Field(default=1000, ge=0)  # SMS per 24 hours, all nodes together; 0: no budget
    captcha_provider: CaptchaProvider = "none"
    captcha_secret: str | None = Field(default=None, repr=False, validate_default=True)  # for altcha: the HMAC key
    captcha_verify_url: str | None = None  # instead of the provider's own siteverify address
    captcha_when: Literal["always", "suspicious"] = "always"
    captcha_min_score: float = Field(default=0.5, ge=0.0, le=1.0)  # reCAPTCHA v3 scores below are refused

    # --- secrets at rest ----------------------------------------------------------------
    encryption_key: str | None = None

    # --- multi-factor authentication (docs/mfa.md) ------------------------------
    mfa_issuer: str = Field(default="authgate", min_length=1, max_length=64)
    mfa_token_ttl_seconds: int = Field(default=300, gt=0, le=3600)
    mfa_token_max_attempts: int = Field(default=5, ge=1, le=20)

    # --- delivery: email and SMS (docs/email-and-codes.md) ----------------------------------------------
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65_535)
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = True
    smtp_from: str | None = None
    smtp_timeout_seconds: float = Field(default=15.0, gt=0)
    sms_webhook_url: str | None = None
    delivery_retry_base_seconds: float = Field(default=2.0, gt=0)
    delivery_max_attempts: int = Field(default=8, ge=1)

    # --- webhooks (docs/webhooks.md) -----------------------------------------------------
    webhook_allow_private: bool = False  # targets on loopback/private/link-local addresses
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    webhook_max_attempts: int = Field(default=12, ge=1, le=50)  # then the delivery is the dead letter
    webhook_retry_base_seconds: float = Field(default=10.0, gt=0)  # doubles per attempt, up to an hour

    # --- social login (docs/social-login.md) ----------------------------------------------
    oauth_providers: dict[str, OAuthProviderSettings] = {}
    oauth_auto_link: bool = False

    # --- logging ------------------------------------------------------------------------
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_json: bool = False

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

    @field_validator("route_prefixes", "trusted_proxies", "redirect_allowlist", "cors_origins", mode="before")
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("route_prefixes")
    @classmethod
    def _prefixes(cls, value: list[str]) -> list[str]:
        cleaned = []
        for prefix in value:
            if not prefix.startswith("/"):
                raise ValueError(f"route prefix {prefix!r} must start with '/'")
            cleaned.append("" if prefix == "/" else prefix.rstrip("/"))
        if not cleaned:
            raise ValueError("at least one route prefix is needed")
        return cleaned

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError("must be an absolute http(s) URL")
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        scheme = urlsplit(value).scheme
        if scheme not in {"sqlite+aiosqlite", "postgresql+asyncpg"}:
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value and urlsplit(value).scheme not in {"redis", "rediss", "unix"}:
            raise ValueError("must be a redis:// or rediss:// URL")
        return value or None

    @field_validator("rate_limits")
    @classmethod
    def _rate_limits(cls, value: str) -> str:
        parse_rules(value)
        return value

    @field_validator("captcha_provider", "captcha_when", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("jwt_algorithm", mode="before")
    @classmethod
    def _algorithm(cls, value: object) -> object:
        """Accept any spelling of the case (`eddsa`, `rs256`); say which ones exist."""
        names = {name.lower(): name for name in ("HS256", "EdDSA", "ES256", "RS256")}
        if isinstance(value, str) and value.strip().lower() in names:
            return names[value.strip().lower()]
        raise ValueError("must be one of HS256, EdDSA, ES256, RS256")

    @field_validator("captcha_secret")
    @classmethod
    def _captcha_secret(cls, value: str | None, info: ValidationInfo) -> str | None:
        provider = info.data.get("captcha_provider")
        if not value and provider in HOSTED_CAPTCHAS:
            raise ValueError(f"must be set: AUTHGATE_CAPTCHA_PROVIDER={provider} needs the provider's secret key")
        if value and provider == "altcha" and len(value) < 32:  # challenges show its HMACs: a short key is guessed
            raise ValueError("must be at least 32 characters: it is the key that signs ALTCHA challenges")
        return value or None

    @field_validator("captcha_verify_url")
    @classmethod
    def _captcha_verify_url(cls, value: str | None) -> str | None:
        return _absolute_url(value, https_unless_loopback=True)  # the secret is posted there

    @cached_property
    def rate_limit_rules(self) -> dict[str, tuple[RateLimitItem, ...]]:
        return parse_rules(self.rate_limits) | sms_budget(self.sms_daily_budget)

    @field_validator("smtp_host", "smtp_username", "smtp_password", "smtp_from", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return value or None

    @field_validator("sms_webhook_url")
    @classmethod
    def _sms_webhook_url(cls, value: str | None) -> str | None:
        if value and (urlsplit(value).scheme not in {"http", "https"} or not urlsplit(value).hostname):
            raise ValueError("must be an absolute http(s) URL")
        return value or None

    @field_validator("redirect_allowlist", "cors_origins")
    @classmethod
    def _origins(cls, value: list[str], info: ValidationInfo) -> list[str]:
        """Each entry one exact origin: a wildcard would look allowed here and match nothing."""
        for entry in value:
            parts = urlsplit(entry)
            if "*" in entry:
                raise ValueError(
                    f"{entry!r}: wildcards are not supported; list each origin, such as https://app.example.com"
                )
            if parts.scheme not in {"http", "https"} or not parts.hostname or parts.username or parts.password:
                raise ValueError(f"{entry!r} is not an http(s) origin such as https://app.example.com")
            if info.field_name == "cors_origins" and (parts.path not in {"", "/"} or parts.query or parts.fragment):
                raise ValueError(
                    f"{entry!r} is not an origin: scheme, host and port only, such as https://app.example.com"
                )
        return value

    @field_validator("cookie_domain", mode="before")
    @classmethod
    def _cookie_domain(cls, value: object, info: ValidationInfo) -> object:
        """A parent domain of the public URL's host (a browser drops a cookie for any other)."""
        if not isinstance(value, str) or not value.strip():
            return None
        domain = value.strip().lower().lstrip(".")
        host = (urlsplit(str(info.data.get("public_url", ""))).hostname or "").lower()
        if not re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)+", domain):
            raise ValueError(f"{value!r} must be a domain name such as example.com")
        if host != domain and not host.endswith("." + domain):
            raise ValueError(f"{domain!r} must be AUTHGATE_PUBLIC_URL's host ({host}) or a domain above it")
        return domain

    @field_validator("oauth_providers")
    @classmethod
    def _oauth_providers(cls, value: dict[str, OAuthProviderSettings]) -> dict[str, OAuthProviderSettings]:
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

    @property
    def mail_from(self) -> str:
        return self.smtp_from or f"no-reply@{urlsplit(self.public_url).hostname}"

    @property
    def access_ttl_seconds(self) -> int:
        return max(1, self.jwt_expiration_ms // 1000)

    @property
    def issuer(self) -> str:
        return self.public_url

    @cached_property
    def public_origin(self) -> str:
        parts = urlsplit(self.public_url)
        return f"{parts.scheme}://{parts.netloc}".lower()


ENV_NAMES = {"jwt_secret": "JWT_SECRET", "jwt_expiration_ms": "JWT_EXPIRATION_MS"}


class ConfigError(Exception):
    """Configuration that cannot run; the message names the environment variable."""


def load_settings(**overrides: object) -> Settings:
    """Build Settings, turning pydantic's report into one line that names the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "?"
        env = field if field.isupper() else ENV_NAMES.get(field, f"AUTHGATE_{field.upper()}")
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
        raise ConfigError(f"{env} {problem}") from None


def cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
