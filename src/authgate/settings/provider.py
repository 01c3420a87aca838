"""authgate as an OpenID Connect provider (docs/oidc-provider.md): whether its protocol endpoints
are served, and where a browser that must sign in is sent."""

from __future__ import annotations

from typing import Self
from urllib.parse import urlsplit

from pydantic import Field, model_validator

from authgate.settings.base import Section, field_error
from authgate.settings.types import LOOPBACK_HOSTS


class ProviderSettings(Section):
    oidc_provider: bool = False
    """Serve the OpenID Connect provider's protocol endpoints (`/.well-known/openid-configuration`, `/oauth2/…`) at the
    public URL's root; needs `AUTHGATE_JWT_ALGORITHM=RS256` and an `https` public URL without a path (plain http on
    this machine only). The client and consent API works either way."""
    login_url: str | None = Field(default=None, max_length=2048)
    """Where a browser that must sign in for an app is sent (with `return_to`); unset: the hosted `/ui/login` while
    `AUTHGATE_UI` is on. A path on this server, or an absolute URL."""

    @model_validator(mode="after")
    def _check_provider(self) -> Self:
        login = self.login_url
        if login is not None:
            parts = urlsplit(login)
            absolute = parts.scheme in ("http", "https") and bool(parts.netloc)
            if not (absolute or (login.startswith("/") and not login.startswith("//") and "\\" not in login)):
                raise field_error("login_url", f"{login!r} must be a path on this server or an http(s) URL", login)
        if not self.oidc_provider:
            return self
        if getattr(self, "jwt_algorithm", "HS256") != "RS256":
            raise field_error("oidc_provider", "=on needs AUTHGATE_JWT_ALGORITHM=RS256", True)
        public = urlsplit(str(getattr(self, "public_url", "")))
        if public.scheme != "https" and public.hostname not in LOOPBACK_HOSTS:
            raise field_error("oidc_provider", "=on needs an https AUTHGATE_PUBLIC_URL (the issuer)", True)
        if public.path not in ("", "/") or public.query or public.fragment:
            message = "=on needs an AUTHGATE_PUBLIC_URL without a path, query or fragment (the issuer is an origin)"
            raise field_error("oidc_provider", message, True)
        return self
