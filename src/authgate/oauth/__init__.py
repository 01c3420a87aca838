"""Sign-in providers (OAuth 2.0 and OpenID Connect), one module per kind: `oidc` (any
provider by issuer discovery; Google is one), `github`, and `plain` (an OAuth 2.0 provider
with a user-info endpoint). `registry` builds them from settings; it is imported only when a
provider is configured (runtime/root.py), so that without one their libraries never load.

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

__all__ = ["Grant", "Identity", "Provider", "ProviderRefused", "ProviderUnavailable"]
