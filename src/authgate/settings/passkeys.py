"""Passkeys (docs/passkeys.md): the WebAuthn relying party, taken from settings only (never from a
request's Host or Origin), and whether a passkey sign-in counts as both factors."""

from __future__ import annotations

import ipaddress
import re
from functools import cached_property
from typing import NamedTuple, Self
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from authgate.security.origins import origin_of, origins_of
from authgate.settings.base import Section, field_error
from authgate.settings.types import LOOPBACK_HOSTS, Origins

_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
DOMAIN = re.compile(rf"{_LABEL}(\.{_LABEL})*")


class RelyingParty(NamedTuple):
    """Where passkeys work: the RP ID (a domain) and the exact origins whose pages may use them."""

    id: str
    origins: tuple[str, ...]


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _under(host: str, rp_id: str) -> bool:
    return host == rp_id or host.endswith("." + rp_id)


class PasskeySettings(Section):
    passkey_rp_id: str | None = Field(default=None, max_length=253)
    """The WebAuthn relying-party ID, a domain name (`example.com`): passkeys work on pages of this domain and its
    subdomains. Unset: the host of `AUTHGATE_PUBLIC_URL` (`localhost` when that is a loopback address); passkeys are
    off when that host is another IP address."""
    passkey_rp_name: str = Field(default="authgate", min_length=1, max_length=64)
    """The name browsers and authenticators show beside a passkey."""
    passkey_origins: Origins = []
    """Comma-separated exact origins (`https://app.example.com,http://localhost:5173`) whose pages may create and use
    passkeys: `https` (plain `http` only on `localhost`), on the RP ID or a subdomain of it. Unset: the public URL's
    origin. An app on another origin also needs `AUTHGATE_CORS_ORIGINS`."""
    passkey_satisfies_mfa: bool = False
    """A passkey sign-in (always user-verified) counts as both factors: no second step, and `amr` gains `mfa`."""

    @field_validator("passkey_rp_id")
    @classmethod
    def _domain(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if _is_ip(value):
            raise ValueError(f"{value!r} is an IP address; WebAuthn needs a domain name such as example.com")
        if not DOMAIN.fullmatch(value):
            raise ValueError(f"{value!r} is not a domain name (no scheme, port or path), such as example.com")
        return value

    @model_validator(mode="after")
    def _check_origins(self) -> Self:
        if not self.passkey_origins:
            return self
        rp_id = self.passkey_rp_id or _default_rp_id(self._public_url())
        for origin in self.passkey_origins:
            parts = urlsplit(origin)
            host = (parts.hostname or "").lower()
            if parts.scheme != "https" and host != "localhost":
                raise field_error("passkey_origins", f"{origin!r} must use https (http only on localhost)", origin)
            if rp_id is None or not _under(host, rp_id):
                message = f"{origin!r} is not on the passkey RP ID ({rp_id}) or a subdomain of it"
                raise field_error("passkey_origins", message, origin)
        return self

    def _public_url(self) -> str:
        # The public URL is another section's field; Settings has both.
        return str(getattr(self, "public_url", "http://localhost"))

    @cached_property
    def relying_party(self) -> RelyingParty | None:
        """The RP ID and origins passkeys are checked against, each origin as browsers write
        `clientDataJSON.origin`; None when passkeys are off (the public URL names a non-loopback
        IP address and no RP ID is set)."""
        rp_id = self.passkey_rp_id or _default_rp_id(self._public_url())
        if rp_id is None:
            return None
        if self.passkey_origins:
            return RelyingParty(rp_id, tuple(sorted(origins_of(self.passkey_origins))))
        public = urlsplit(self._public_url())
        if (public.hostname or "").lower() in LOOPBACK_HOSTS:
            public = public._replace(netloc=f"localhost:{public.port}" if public.port else "localhost")
        origin = origin_of(public.geturl())
        return RelyingParty(rp_id, (origin,) if origin else ())

    @property
    def passkey_start_note(self) -> str | None:
        """What the start log says about passkeys, when the default RP ID is not the public URL's host."""
        host = urlsplit(self._public_url()).hostname or ""
        if self.passkey_rp_id is not None or not _is_ip(host):
            return None
        if host in LOOPBACK_HOSTS:
            return (
                "AUTHGATE_PASSKEY_RP_ID is unset and the public URL is a loopback address: passkeys work only on "
                "pages at http://localhost:PORT"
            )
        return "passkeys are off: the public URL is an IP address; set AUTHGATE_PASSKEY_RP_ID to a domain name"


def _default_rp_id(public_url: str) -> str | None:
    host = (urlsplit(public_url).hostname or "").lower()
    if host in LOOPBACK_HOSTS:
        return "localhost"
    return None if _is_ip(host) else host
