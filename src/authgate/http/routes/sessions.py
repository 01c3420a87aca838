"""The caller's sessions: list them, end one, end all the others."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from authgate.http.deps import CurrentPrincipal, RuntimeDep
from authgate.http.openapi import problems
from authgate.http.schemas.sessions import RevokedOut, SessionOut
from authgate.signin import sessions

router = APIRouter(tags=["sessions"])


@router.get("/sessions", response_model=list[SessionOut])
async def list_sessions(principal: CurrentPrincipal, rt: RuntimeDep) -> list[SessionOut]:
    rows = await sessions.list_sessions(rt, user_id=principal.user_id)
    return [SessionOut.of(row, current_id=principal.session_id) for row in rows]


@router.delete(
    "/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response, responses=problems(404)
)
async def revoke_session(session_id: str, principal: CurrentPrincipal, rt: RuntimeDep) -> Response:
    await sessions.revoke_own_session(rt, user_id=principal.user_id, session_id=session_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/sessions", response_model=RevokedOut)
async def revoke_other_sessions(principal: CurrentPrincipal, rt: RuntimeDep) -> RevokedOut:
    ids = await sessions.revoke_other_sessions(rt, user_id=principal.user_id, keep=principal.session_id)
    return RevokedOut(message="Other sessions revoked", revoked=len(ids))
