"""The OpenID Connect provider's use cases: the clients (apps and services) that ask authgate
for tokens, authorization, consent, grants and tokens (docs/oidc-provider.md)."""
