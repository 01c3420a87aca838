"""Bodies of the OAuth client endpoints (`clients:manage`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from authgate.http.schemas.accounts import In
from authgate.services.oauth2 import clients
from authgate.wire import iso_z

# Generous bounds on what is read at all; the rules (services/oauth2/clients.py) say the rest.
_URIS = 100
_URI_CHARS = 4096
_SCOPES = 200
_SCOPE_CHARS = 200


class Client(clients.Registered, Protocol):
    """What a client is shown from (an `oauth_clients` row)."""

    @property
    def name(self) -> str: ...
    @property
    def first_party(self) -> bool: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def last_used_at(self) -> datetime | None: ...
    @property
    def revoked_at(self) -> datetime | None: ...


Uris = list[Annotated[str, Field(max_length=_URI_CHARS)]] | None
Scopes = list[Annotated[str, Field(max_length=_SCOPE_CHARS)]] | None


class OAuthClientIn(In):
    name: str = Field(max_length=1000)
    redirect_uris: Uris = Field(default=None, alias="redirectUris", max_length=_URIS)
    post_logout_redirect_uris: Uris = Field(default=None, alias="postLogoutRedirectUris", max_length=_URIS)
    public: bool = False
    first_party: bool = Field(default=False, alias="firstParty")
    scopes: Scopes = Field(default=None, max_length=_SCOPES)
    client_credentials: bool = Field(default=False, alias="clientCredentials")
    access_token_audience: str | None = Field(default=None, alias="accessTokenAudience", max_length=1000)


class OAuthClientChangeIn(In):
    """Only the fields sent change; `accessTokenAudience: null` puts back the default (the client id)."""

    name: str | None = Field(default=None, max_length=1000)
    redirect_uris: Uris = Field(default=None, alias="redirectUris", max_length=_URIS)
    post_logout_redirect_uris: Uris = Field(default=None, alias="postLogoutRedirectUris", max_length=_URIS)
    scopes: Scopes = Field(default=None, max_length=_SCOPES)
    first_party: bool | None = Field(default=None, alias="firstParty")
    access_token_audience: str | None = Field(default=None, alias="accessTokenAudience", max_length=1000)


class OAuthClientOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    client_id: str = Field(serialization_alias="clientId")
    name: str
    kind: Literal["confidential", "public", "service"]
    first_party: bool = Field(serialization_alias="firstParty")
    redirect_uris: list[str] = Field(serialization_alias="redirectUris")
    post_logout_redirect_uris: list[str] = Field(serialization_alias="postLogoutRedirectUris")
    scopes: list[str]
    grant_types: list[str] = Field(serialization_alias="grantTypes")
    token_endpoint_auth_methods: list[str] = Field(serialization_alias="tokenEndpointAuthMethods")
    access_token_audience: str = Field(serialization_alias="accessTokenAudience")
    created_at: str = Field(serialization_alias="createdAt")
    last_used_at: str | None = Field(serialization_alias="lastUsedAt")
    revoked_at: str | None = Field(serialization_alias="revokedAt")

    @classmethod
    def fields_of(cls, client: Client) -> dict[str, object]:
        return {
            "client_id": client.id,
            "name": client.name,
            "kind": client.kind,
            "first_party": client.first_party,
            "redirect_uris": clients.redirect_uris(client),
            "post_logout_redirect_uris": clients.post_logout_redirect_uris(client),
            "scopes": clients.scopes_of(client),
            "grant_types": clients.grant_types(client),
            "token_endpoint_auth_methods": clients.token_endpoint_auth_methods(client),
            "access_token_audience": clients.audience_of(client),
            "created_at": iso_z(client.created_at),
            "last_used_at": iso_z(client.last_used_at) if client.last_used_at else None,
            "revoked_at": iso_z(client.revoked_at) if client.revoked_at else None,
        }

    @classmethod
    def of(cls, client: Client) -> OAuthClientOut:
        return cls.model_validate(cls.fields_of(client))


class CreatedOAuthClientOut(OAuthClientOut):
    """The new client, with its secret: shown this once (a public client has none)."""

    client_secret: str | None = Field(default=None, serialization_alias="clientSecret")

    @classmethod
    def with_secret(cls, client: Client, secret: str | None) -> CreatedOAuthClientOut:
        return cls.model_validate({**cls.fields_of(client), "client_secret": secret})


class OAuthClientSecretOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    client_id: str = Field(serialization_alias="clientId")
    client_secret: str = Field(serialization_alias="clientSecret")


class OAuthClientPageOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    items: list[OAuthClientOut]
    next_cursor: str | None = Field(serialization_alias="nextCursor")
