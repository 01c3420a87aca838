"""The OpenID Connect provider's use cases: the clients (apps and services) that ask authgate
for tokens, managed here and authenticated for the protocol endpoints."""
