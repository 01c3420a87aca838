"""Sign-in providers (OAuth 2.0 and OpenID Connect), one module per kind: `oidc` (any
provider by issuer discovery; Google is one), `github`, and `plain` (an OAuth 2.0 provider
with a user-info endpoint). `registry` builds them from settings.

A provider turns an authorization code into an `Identity`; it knows nothing of accounts.
What an identity may open is decided by `methods/oauth/flows.py` and the sign-in gate.
"""

from authgate.oauth.base import (
    Grant,
    Identity,
    Provider,
    ProviderRefused,
    ProviderUnavailable,
)
from authgate.oauth.registry import providers_from_settings

__all__ = ["Grant", "Identity", "Provider", "ProviderRefused", "ProviderUnavailable", "providers_from_settings"]
