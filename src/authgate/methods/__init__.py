"""Credential methods, one package each (password and PIN, TOTP, recovery codes, one-time
codes by email or SMS, magic links, sign-in through a provider, passkeys), and the list of
them the runtime builds from settings.

A new method is a new package here and a line in `methods_from_settings`; the sign-in gate
(`signin/gate.py`) asks the list, never a method by name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from authgate.core.factors import Methods
from authgate.methods.code.factor import CODE
from authgate.methods.link.factor import LINK
from authgate.methods.oauth.factor import OAUTH
from authgate.methods.passkey.factor import PASSKEY_METHOD
from authgate.methods.password.factor import PASSWORD
from authgate.methods.recovery.factor import RECOVERY
from authgate.methods.totp.factor import TOTP

if TYPE_CHECKING:
    from authgate.settings import Settings

__all__ = ["methods_from_settings"]


def methods_from_settings(settings: Settings) -> Methods:
    """Every method is on; sign-in through providers when at least one is configured, passkeys
    unless the public URL is an IP address and no RP ID is set."""
    social = (OAUTH,) if settings.oauth_providers else ()
    passkeys = (PASSKEY_METHOD,) if settings.relying_party is not None else ()
    return Methods(first=(PASSWORD, CODE, LINK, *social, *passkeys), second=(TOTP, RECOVERY, CODE, *passkeys))
