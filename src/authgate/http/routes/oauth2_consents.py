"""The apps a user allowed through the OpenID provider: list them, take one's access back."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from authgate.http.deps import CurrentPrincipal, RuntimeDep
from authgate.http.openapi import problems
from authgate.http.schemas.oauth2_consents import ConsentOut
from authgate.services.oauth2 import consents

router = APIRouter(tags=["openid provider"])


@router.get("/oauth2/consents", response_model=list[ConsentOut], summary="The apps you allowed")
async def list_consents(principal: CurrentPrincipal, rt: RuntimeDep) -> list[ConsentOut]:
    return [ConsentOut.of(c) for c in await consents.of_user(rt, user_id=principal.user_id)]


@router.delete(
    "/oauth2/consents/{client_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problems(404),
    summary="Take an app's access back: its consent and every grant end",
)
async def revoke_consent(client_id: str, principal: CurrentPrincipal, rt: RuntimeDep) -> Response:
    await consents.revoke(rt, user_id=principal.user_id, client_id=client_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
