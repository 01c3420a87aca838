"""authgate as an OpenID Connect provider: clients, authorization, consent, grants and tokens
(docs/oidc-provider.md)."""

from authgate.storage.models import OAuthClient as Client

__all__ = ["Client"]
