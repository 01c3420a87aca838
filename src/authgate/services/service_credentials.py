"""Service credentials: how another service proves who it is when it asks about a token
(`POST /token/introspect`, services/introspection.py).

A credential is a service client (services/oauth2/clients.py, kind `service`): a client id
and a secret (`agsvc_` and 256 random bits), shown once when it is made; only the secret's
SHA-256 is kept. These are the short forms `authgate service` uses; they see service clients
only (another client's id is as unknown here), and the checks, the decoy work for an unknown
id, the once-a-minute record of the last use and the audit entries are the clients' own.
"""

from __future__ import annotations

from authgate.core.parts import Parts
from authgate.services.oauth2 import clients
from authgate.services.oauth2.clients import CLIENT_ID_MAX, NAME_MAX
from authgate.storage.models import OAuthClient as ServiceCredential
from authgate.storage.models.oauth2 import SERVICE

__all__ = ["CLIENT_ID_MAX", "NAME_MAX", "authenticate", "create", "list_credentials", "revoke"]


async def create(rt: Parts, *, name: str) -> tuple[ServiceCredential, str]:
    """A new credential and its secret, which is never shown again."""
    created = await clients.create(rt, clients.NewClient(name=name), caller=None)
    assert created.secret is not None  # a service client always has one
    return created.client, created.secret


async def list_credentials(rt: Parts) -> list[ServiceCredential]:
    """Every credential, revoked ones included, oldest first."""
    return await clients.list_clients(rt, kind=SERVICE)


async def revoke(rt: Parts, *, credential_id: str) -> tuple[ServiceCredential, bool]:
    """Revoke a credential; its next check is refused. Returns it, and whether this call
    revoked it (False: it was revoked already, and nothing changed)."""
    return await clients.revoke(rt, client_id=credential_id, kind=SERVICE)


async def authenticate(rt: Parts, *, client_id: str, secret: str) -> ServiceCredential:
    """The credential, if `secret` is its secret and it is not revoked; 401 `invalid_client`
    otherwise, after the same work whether or not the client id exists."""
    return await clients.authenticate_as(rt, client_id=client_id, secret=secret, kinds=(SERVICE,))
