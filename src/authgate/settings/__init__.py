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
from authgate.security.redirects import allowed_targets, app_entry


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

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    client_id: str = Field(min_length=1)
    """The client id the provider issued; required."""
    client_secret: str = Field(min_length=1, repr=False)
    """The client secret the provider issued; required."""
    issuer: str | None = None
    """An OpenID Connect provider's issuer, exactly as its discovery document names it; endpoints and keys are
    discovered (`https://accounts.google.com` for `GOOGLE`). This URL and the three below must be `https`, except on
    `localhost`, `127.0.0.1` and `::1`."""
    authorize_url: str | None = None
    """A plain OAuth 2.0 provider's authorization endpoint (built in for `GITHUB`); with an issuer, overrides the
    discovered one."""
    token_url: str | None = None
    """A plain OAuth 2.0 provider's token endpoint (built in for `GITHUB`)."""
    userinfo_url: str | None = None
    """A plain OAuth 2.0 provider's user-info endpoint (built in for `GITHUB`)."""
    scopes: Annotated[list[str], NoDecode] = []
    """Space- or comma-separated; replaces the defaults (OpenID Connect `openid email profile`, GitHub `read:user
    user:email`, plain `email`)."""

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
        use_attribute_docstrings=True,  # each field's docstring is its line in docs/configuration.md
    )

    # --- tokens -------------------------------------------------------------------------
    jwt_secret: str = Field(validation_alias=AliasChoices("JWT_SECRET"), min_length=32, repr=False)
    """HS256 signing secret, at least 32 characters; also the source of derived keys when `AUTHGATE_ENCRYPTION_KEY` is
    unset."""
    jwt_expiration_ms: int = Field(default=900_000, validation_alias=AliasChoices("JWT_EXPIRATION_MS"), gt=0)
    """Access-token lifetime in milliseconds."""
    jwt_audience: str = "authgate"
    """The `aud` claim minted and required."""
    jwt_algorithm: Literal["HS256", "EdDSA", "ES256", "RS256"] = "HS256"
    """How access tokens are signed: `HS256` with `JWT_SECRET`, or `EdDSA`, `ES256`, `RS256` with key pairs kept
    (sealed) in the database and published at `/.well-known/jwks.json` (docs/signing-keys.md)."""
    key_rotation_seconds: int = Field(default=0, ge=0)
    """Under an asymmetric algorithm, make a new signing key when the current one is this old; `0`: only `authgate keys
    rotate`."""
    key_grace_seconds: int = Field(default=3600, ge=0)
    """How long a retired signing key still verifies and is published; keep it at least the access-token lifetime."""
    refresh_token_ttl_seconds: int = Field(default=2_592_000, gt=0)
    """Refresh-token and session lifetime, renewed by each refresh up to the session's absolute end."""
    refresh_reuse_grace_seconds: int = Field(default=10, ge=0)
    """A just-rotated refresh token still returns the same new pair this long; after it, presenting any refresh token
    the session rotated out ends the session; `0` turns the grace off (docs/sessions.md)."""
    session_max_seconds: int = Field(default=7_776_000, gt=0)
    """A session's absolute end, counted from its sign-in, whatever the refreshes (docs/sessions.md)."""
    reauth_max_age_seconds: int = Field(default=300, ge=0)
    """How recent a sign-in must be for a sensitive change (MFA setup and enable, enrolling a one-time-code factor,
    changing the phone, linking a provider); older sessions send `currentPassword` (or a current factor's `mfaCode`),
    else 401 `reauthentication_required` (docs/mfa.md); `0` always asks for that proof."""

    # --- storage ------------------------------------------------------------------------
    database_url: str = "sqlite+aiosqlite:///./authgate.db"
    """`sqlite+aiosqlite:///…` (one node) or `postgresql+asyncpg://…` (one or many nodes)."""
    redis_url: str | None = None
    """`redis://…` (or `rediss://`, `unix://`); when set, every node shares rate limits, sending limits, the SMS budget
    and lockout counts through it, and `/readyz` also needs Redis (docs/abuse-protection.md#when-redis-goes-away)."""
    redis_key_prefix: str = Field(default="authgate:", min_length=1, max_length=64)
    """The start of every key authgate keeps in Redis (1 to 64 characters); deployments sharing one Redis need different
    ones."""
    database_pool_size: int = Field(default=10, ge=1, le=1000)
    """Database connections each process keeps open."""
    database_max_overflow: int = Field(default=10, ge=0, le=1000)
    """Extra connections a process may open under a burst, closed again when returned."""
    database_pool_timeout_seconds: float = Field(default=10.0, gt=0)
    """How long a request waits for a free connection before it is answered 503."""
    database_connect_timeout_seconds: float = Field(default=5.0, gt=0)
    """How long opening a PostgreSQL connection may take: an unreachable database fails this fast."""

    # --- retention: what the server deletes by itself, in batches ---------------------------
    retention_interval_seconds: int = Field(default=60, ge=0)
    """How often the server purges what it no longer needs (docs/retention.md); `0`: never."""
    retention_batch_size: int = Field(default=500, ge=1, le=10_000)
    """Rows one purge statement deletes at most."""
    retention_expired_seconds: int = Field(default=86_400, ge=0)
    """One-time links and codes (and their decoys) are deleted this long after they expire."""
    retention_sessions_seconds: int = Field(default=604_800, ge=0)
    """Sessions are deleted this long after they end or are revoked."""
    retention_outbox_seconds: int = Field(default=604_800, ge=0)
    """Messages and webhook deliveries are deleted this long after they were sent or given up."""
    retention_events_seconds: int = Field(default=604_800, ge=0)
    """Events are deleted this long after they were handed to the webhooks."""

    # --- http ---------------------------------------------------------------------------
    public_url: str = "http://127.0.0.1:8000"
    """The service's public base URL: the token issuer (`iss`), the base of links in emails, and of the OAuth redirect
    URIs registered at providers (`{AUTHGATE_PUBLIC_URL}{first route prefix}/oauth/<name>/callback`)."""
    route_prefixes: Annotated[list[str], NoDecode] = ["/", "/auth", "/api/auth", "/api/v1/auth"]
    """Comma-separated; every endpoint is served under each; OpenAPI documents the first."""
    trusted_proxies: Annotated[list[str], NoDecode] = []
    """Comma-separated addresses or CIDRs whose `X-Forwarded-For` is believed; the client is the rightmost address not
    in the list (docs/abuse-protection.md#which-address-is-the-clients)."""
    redirect_allowlist: Annotated[list[str], NoDecode] = []
    """Comma-separated origins that `redirectTo` may point at, and that cookie-authenticated state-changing requests may
    come from (CSRF), and native apps' own URLs (`myapp://auth`, `com.example.app:/oauth`: a redirect must lie under
    one); unset: the public URL's origin, and `AUTHGATE_APP_URL`'s when that is set. Wildcards are refused."""
    app_url: str | None = None
    """The web app's base URL (`https://app.example.com`): links in emails open the app's pages, which finish the flow
    through the API: `{AUTHGATE_APP_URL}/auth/verify-email?token=…`, `/auth/reset-password?token=…` and
    `/auth/magic-link?token=…` (docs/guides/spa-and-api.md). Unset: links open authgate's own pages."""
    app_verify_email_url: str | None = None
    """The app's page for verification links, instead of `{AUTHGATE_APP_URL}/auth/verify-email`; `?token=…` is added."""
    app_reset_password_url: str | None = None
    """The app's page for reset links, instead of `{AUTHGATE_APP_URL}/auth/reset-password`; `?token=…` is added."""
    app_magic_link_url: str | None = None
    """The app's page for magic links, instead of `{AUTHGATE_APP_URL}/auth/magic-link`; `?token=…` is added. A
    magic link asked for with a `codeChallenge` (native apps) always opens authgate's own route, which redirects to the
    app."""
    cors_origins: Annotated[list[str], NoDecode] = []
    """Comma-separated browser origins allowed to call the API with credentials (CORS); they also pass the CSRF origin
    check (docs/browser-apps.md). Exact origins only."""
    cookie_secure: bool = True
    """The `Secure` flag on auth cookies; `false` only for plain-http development."""
    cookie_domain: str | None = None
    """A parent domain of the public URL's host (e.g. `example.com`): the auth cookies are then sent to its subdomains
    too, so `api.example.com` reads cookies set by `auth.example.com`. Unset: host-only cookies."""
    max_body_bytes: int = Field(default=65_536, gt=0)
    """Larger request bodies are refused with 413 before parsing."""
    shutdown_timeout_seconds: float = Field(default=30.0, ge=0)
    """On SIGTERM, requests in flight get this long to finish before the process exits."""
    api_docs: bool = True
    """Serve the OpenAPI document at `/openapi.json` and its browsable page at `/docs` (root only); `false` turns
    both off."""
    metrics_token: str | None = Field(default=None, min_length=32, repr=False)
    """`/metrics` asks for `Authorization: Bearer <this>` (at least 32 characters); unset: it answers direct loopback
    connections only (docs/metrics.md)."""

    # --- passwords ----------------------------------------------------------------------
    bcrypt_rounds: int = Field(default=12, ge=4, le=31)
    """bcrypt cost (4 to 31)."""
    password_min_length: int = Field(default=8, ge=1, le=128)
    """The shortest password accepted."""
    password_require_mixed: bool = True
    """Require an upper-case letter, a lower-case letter and a digit."""
    password_block_common: bool = True
    """Refuse the 30,000 most common passwords (case-insensitive)."""
    require_email_verification: bool = False
    """No session starts until the address is verified: login answers 403 `email_not_verified`, and `POST /register`
    answers 201 without tokens or cookies and sends the verification link (docs/email-and-codes.md)."""

    # --- abuse protection (docs/abuse-protection.md) ---------------------------------------
    lockout_threshold: int = Field(default=5, ge=1)
    """Failed checks of an account's secrets in a row before it is locked (docs/abuse-protection.md#account-lockout)."""
    lockout_seconds: int = Field(default=900, ge=1)
    """The first lock's length; each lock in a row doubles it, up to a day."""
    rate_limits: str = "on"
    """`on` (the defaults), `off`, or rules to change, such as `login.ip=20/minute, oauth.ip=off`
    (docs/abuse-protection.md#rate-limits)."""
    sms_daily_budget: int = Field(default=1000, ge=0)
    """SMS sent in any 24 hours, all nodes together; over it, requests that would send one answer 429; holds with rate
    limits off; `0`: no budget."""
    captcha_provider: CaptchaProvider = "none"
    """`turnstile`, `hcaptcha`, `recaptcha` or `altcha`: a CAPTCHA on register, login, password/forgot, login/magic and
    otp/send (docs/abuse-protection.md#captcha)."""
    captcha_secret: str | None = Field(default=None, repr=False, validate_default=True)
    """The provider's secret key, required for `turnstile`, `hcaptcha` and `recaptcha`; for `altcha`, the key that signs
    challenges (at least 32 characters; derived from `JWT_SECRET` when unset)."""
    captcha_verify_url: str | None = None
    """Replaces the provider's siteverify address (a proxy, a compatible service); `https`, or plain `http` only on
    `localhost`, `127.0.0.1` and `::1`."""
    captcha_when: Literal["always", "suspicious"] = "always"
    """`suspicious`: ask only from an address that recently failed sign-ins."""
    captcha_min_score: float = Field(default=0.5, ge=0.0, le=1.0)
    """reCAPTCHA v3 answers scoring below this are refused (0 to 1)."""

    # --- secrets at rest ----------------------------------------------------------------
    encryption_key: str | None = Field(default=None, repr=False)
    """Key material for secrets kept at rest (AES-256-GCM): TOTP seeds, signing keys, webhook secrets, message bodies in
    the outbox; unset: derived from `JWT_SECRET` (HKDF)."""

    # --- multi-factor authentication (docs/mfa.md) ------------------------------
    mfa_issuer: str = Field(default="authgate", min_length=1, max_length=64)
    """The issuer shown in authenticator apps (docs/mfa.md)."""
    mfa_token_ttl_seconds: int = Field(default=300, gt=0, le=3600)
    """Lifetime of an `mfaToken` (at most 3600)."""
    mfa_token_max_attempts: int = Field(default=5, ge=1, le=20)
    """Codes that may be tried with one `mfaToken`."""

    # --- delivery: email and SMS (docs/email-and-codes.md) ----------------------------------------------
    smtp_host: str | None = None
    """When set, mail goes out over SMTP; otherwise it is logged (without its body) and kept in the outbox
    (docs/email-and-codes.md)."""
    smtp_port: int = Field(default=587, ge=1, le=65_535)
    """The SMTP server's port."""
    smtp_username: str | None = None
    """SMTP login, if the server asks for one."""
    smtp_password: str | None = Field(default=None, repr=False)
    """SMTP password."""
    smtp_starttls: bool = True
    """Upgrade the SMTP connection with STARTTLS."""
    smtp_from: str | None = None
    """The sender address; unset: `no-reply@<public host>`."""
    smtp_timeout_seconds: float = Field(default=15.0, gt=0)
    """How long one SMTP conversation may take."""
    sms_webhook_url: str | None = None
    """Each SMS is a `POST {"to", "body"}` (JSON) here; unset: logged and kept in the outbox."""
    delivery_retry_base_seconds: float = Field(default=2.0, gt=0)
    """The first wait before a failed mail or SMS is tried again (it doubles each time)."""
    delivery_max_attempts: int = Field(default=8, ge=1)
    """Attempts before a mail or SMS is given up."""

    # --- webhooks (docs/webhooks.md) -----------------------------------------------------
    webhook_allow_private: bool = False
    """Allow webhook targets on loopback, private and link-local addresses (development only;
    docs/webhooks.md#which-urls-are-allowed)."""
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    """How long one webhook delivery attempt may take (at most 120)."""
    webhook_max_attempts: int = Field(default=12, ge=1, le=50)
    """Attempts before a webhook delivery becomes the dead letter."""
    webhook_retry_base_seconds: float = Field(default=10.0, gt=0)
    """The first wait between webhook attempts (doubling, at most an hour)."""

    # --- social login (docs/social-login.md) ----------------------------------------------
    oauth_providers: dict[str, OAuthProviderSettings] = {}
    """Sign-in providers, one per `<NAME>`, from the `AUTHGATE_OAUTH_<NAME>_*` variables (docs/social-login.md)."""
    oauth_auto_link: bool = False
    """An identity whose email the provider marks verified is linked to the existing account with that email (claiming
    it if its address was never verified); otherwise such a sign-in is 409 `identity_not_linked`."""

    # --- logging ------------------------------------------------------------------------
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    """`DEBUG`, `INFO`, `WARNING` or `ERROR`."""
    log_json: bool = False
    """One JSON object per log line (for log shippers)."""

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

    @field_validator("app_url", "app_verify_email_url", "app_reset_password_url", "app_magic_link_url")
    @classmethod
    def _app_urls(cls, value: str | None) -> str | None:
        url = _absolute_url(value)
        if url and (urlsplit(url).username or urlsplit(url).fragment):
            raise ValueError(f"{url!r} must not have user information or a fragment")
        return url.rstrip("/") if url else None

    @field_validator("redirect_allowlist", "cors_origins")
    @classmethod
    def _origins(cls, value: list[str], info: ValidationInfo) -> list[str]:
        """Each entry one exact origin (or, in the redirect allow-list, an app's own URL): a
        wildcard would look allowed here and match nothing."""
        for entry in value:
            parts = urlsplit(entry)
            if "*" in entry:
                raise ValueError(
                    f"{entry!r}: wildcards are not supported; list each origin, such as https://app.example.com"
                )
            if info.field_name == "redirect_allowlist" and parts.scheme.lower() not in {"http", "https"}:
                app_entry(entry)  # an app's own scheme (ValueError says why it is not one)
                continue
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
    def redirect_targets(self) -> list[str]:
        """What `redirectTo` may point at: the allow-list, or by default the public URL's and the app's origins."""
        return allowed_targets(self.redirect_allowlist, self.public_url, self.app_url)

    @cached_property
    def public_origin(self) -> str:
        parts = urlsplit(self.public_url)
        return f"{parts.scheme}://{parts.netloc}".lower()


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
        raise ConfigError(f"{env} {problem}") from None


def cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
