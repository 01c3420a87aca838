"""The OAuth clients: apps that sign their users in through authgate, and services that call
it with client credentials (`clients:manage`; making one first party takes `*`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from authgate.core.principal import Principal
from authgate.http.deps import RuntimeDep, require_caps
from authgate.http.responses import json_response
from authgate.http.schemas.oauth2_clients import (
    CreatedOAuthClientOut,
    OAuthClientChangeIn,
    OAuthClientIn,
    OAuthClientOut,
    OAuthClientPageOut,
    OAuthClientSecretOut,
)
from authgate.services.oauth2 import clients
from authgate.services.pagination import DEFAULT_LIMIT, MAX_LIMIT

router = APIRouter(tags=["oauth2 clients"])

Manager = Annotated[Principal, require_caps("clients:manage")]
PATH = "/oauth2/clients"
NO_STORE = {"Cache-Control": "no-store"}  # the secret must not linger in a cache


def _location(request: Request, client_id: str) -> str:
    """The new client's URL under the prefix the request came by: a relative reference, never
    a URL built from the `Host` header, which the client chooses."""
    sent: str = request.scope.get("authgate.path", request.scope["path"])
    return f"{sent.rstrip('/')}/{client_id}"


@router.post(PATH, status_code=status.HTTP_201_CREATED, response_model=CreatedOAuthClientOut, responses={403: {}})
async def create_client(body: OAuthClientIn, request: Request, manager: Manager, rt: RuntimeDep) -> Response:
    """The kind follows from the body: no `redirectUris`, a service (client credentials only);
    with them, a public app when `public` (no secret, PKCE), else a confidential one. The
    answer carries `clientSecret` (not for a public app): it is shown this once. `firstParty`
    needs the `*` capability."""
    new = clients.NewClient(
        name=body.name,
        redirect_uris=body.redirect_uris or (),
        post_logout_redirect_uris=body.post_logout_redirect_uris or (),
        public=body.public,
        first_party=body.first_party,
        scopes=body.scopes,
        client_credentials=body.client_credentials,
        access_token_audience=body.access_token_audience,
    )
    created = await clients.create(rt, new, caller=manager)
    shown = CreatedOAuthClientOut.with_secret(created.client, created.secret)
    exclude = {"client_secret"} if created.secret is None else None
    return Response(
        shown.model_dump_json(by_alias=True, exclude=exclude),
        status_code=status.HTTP_201_CREATED,
        media_type="application/json",
        headers={**NO_STORE, "Location": _location(request, created.client.id)},
    )


@router.get(PATH, response_model=OAuthClientPageOut, responses={403: {}})
async def list_clients(
    _manager: Manager,
    rt: RuntimeDep,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Response:
    """Oldest first; revoked clients stay, with `revokedAt`."""
    page = await clients.list_page(rt, cursor=cursor, limit=limit)
    return json_response(
        OAuthClientPageOut(items=[OAuthClientOut.of(c) for c in page.items], next_cursor=page.next_cursor)
    )


@router.get(PATH + "/{client_id}", response_model=OAuthClientOut, responses={403: {}, 404: {}})
async def get_client(client_id: str, _manager: Manager, rt: RuntimeDep) -> Response:
    return json_response(OAuthClientOut.of(await clients.get(rt, client_id=client_id)))


@router.put(PATH + "/{client_id}", response_model=OAuthClientOut, responses={403: {}, 404: {}, 409: {}})
async def update_client(client_id: str, body: OAuthClientChangeIn, manager: Manager, rt: RuntimeDep) -> Response:
    """Only the fields sent change; the kind never does. `accessTokenAudience: null` puts back
    the default (the client id). Changing `firstParty` needs the `*` capability."""
    audience: str | clients.Default | None = body.access_token_audience
    if audience is None and "access_token_audience" in body.model_fields_set:
        audience = clients.DEFAULT
    change = clients.ClientChange(
        name=body.name,
        redirect_uris=body.redirect_uris,
        post_logout_redirect_uris=body.post_logout_redirect_uris,
        scopes=body.scopes,
        first_party=body.first_party,
        access_token_audience=audience,
    )
    return json_response(
        OAuthClientOut.of(await clients.update(rt, client_id=client_id, change=change, caller=manager))
    )


@router.post(PATH + "/{client_id}/secret", response_model=OAuthClientSecretOut, responses={403: {}, 404: {}, 409: {}})
async def rotate_secret(client_id: str, _manager: Manager, rt: RuntimeDep) -> Response:
    """A new secret, shown this once; the old one is refused from now on. A public client has none (409)."""
    client, secret = await clients.rotate_secret(rt, client_id=client_id)
    body = OAuthClientSecretOut(client_id=client.id, client_secret=secret).model_dump_json(by_alias=True)
    return Response(body, media_type="application/json", headers=NO_STORE)


@router.delete(
    PATH + "/{client_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses={403: {}, 404: {}},
)
async def revoke_client(client_id: str, _manager: Manager, rt: RuntimeDep) -> Response:
    """Revoke the client: refused from its next request on, and every grant it holds ends. It
    stays in the list, with `revokedAt`."""
    await clients.revoke(rt, client_id=client_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
