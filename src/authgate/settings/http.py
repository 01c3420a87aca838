"""How the service is reached: its public URL and routes, proxies, the web app and its links,
browser origins and cookies, and the limits of a request."""

from __future__ import annotations

from functools import cached_property
from typing import Self
from urllib.parse import urlsplit

from pydantic import Field, model_validator

from authgate.security.redirects import allowed_targets
from authgate.settings.base import Section, field_error
from authgate.settings.types import AppUrl, CookieDomain, CsvList, Origins, PublicUrl, RedirectTargets, RoutePrefixes


class HttpSettings(Section):
    public_url: PublicUrl = "http://localhost:8000"
    """The service's public base URL: the token issuer (`iss`), the base of links in emails, and of the OAuth redirect
    URIs registered at providers (`{AUTHGATE_PUBLIC_URL}{first route prefix}/oauth/<name>/callback`). Unset, `authgate
    serve` names the address it serves, a loopback one as `localhost` (passkeys refuse IP addresses)."""
    route_prefixes: RoutePrefixes = ["/", "/auth", "/api/auth", "/api/v1/auth"]
    """Comma-separated; every endpoint is served under each; OpenAPI documents the first."""
    trusted_proxies: CsvList = []
    """Comma-separated addresses or CIDRs whose `X-Forwarded-For` is believed; the client is the rightmost address not
    in the list (docs/abuse-protection.md#which-address-is-the-clients)."""
    redirect_allowlist: RedirectTargets = []
    """Comma-separated origins that `redirectTo` may point at, and that cookie-authenticated state-changing requests may
    come from (CSRF), and native apps' own URLs (`myapp://auth`, `com.example.app:/oauth`: a redirect must lie under
    one); unset: the public URL's origin, and `AUTHGATE_APP_URL`'s when that is set. Wildcards are refused."""
    app_url: AppUrl = None
    """The web app's base URL (`https://app.example.com`): links in emails open the app's pages, which finish the flow
    through the API: `{AUTHGATE_APP_URL}/auth/verify-email?token=…`, `/auth/reset-password?token=…` and
    `/auth/magic-link?token=…` (docs/guides/spa-and-api.md). Unset: links open authgate's own pages."""
    app_verify_email_url: AppUrl = None
    """The app's page for verification links, instead of `{AUTHGATE_APP_URL}/auth/verify-email`; `?token=…` is added."""
    app_reset_password_url: AppUrl = None
    """The app's page for reset links, instead of `{AUTHGATE_APP_URL}/auth/reset-password`; `?token=…` is added."""
    app_magic_link_url: AppUrl = None
    """The app's page for magic links, instead of `{AUTHGATE_APP_URL}/auth/magic-link`; `?token=…` is added. A
    magic link asked for with a `codeChallenge` (native apps) always opens authgate's own route, which redirects to the
    app."""
    cors_origins: Origins = []
    """Comma-separated browser origins allowed to call the API with credentials (CORS); they also pass the CSRF origin
    check (docs/browser-apps.md). Exact origins only."""
    cookie_secure: bool = True
    """The `Secure` flag on auth cookies; `false` only for plain-http development."""
    cookie_domain: CookieDomain = None
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

    @model_validator(mode="after")
    def _check_http(self) -> Self:
        # The cookie domain must be the public URL's host or above it: a browser drops a cookie for any other.
        domain = self.cookie_domain
        host = (urlsplit(self.public_url).hostname or "").lower()
        if domain and host != domain and not host.endswith("." + domain):
            message = f"{domain!r} must be AUTHGATE_PUBLIC_URL's host ({host}) or a domain above it"
            raise field_error("cookie_domain", message, domain)
        return self

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
