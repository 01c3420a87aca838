"""Reading the audit trail (`audit:read`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response

from authgate.core.principal import Principal
from authgate.http.deps import RuntimeDep, require_caps
from authgate.http.responses import json_response
from authgate.http.schemas.audit import AuditEntryOut, AuditPageOut
from authgate.services import audit
from authgate.services.pagination import DEFAULT_LIMIT, MAX_LIMIT

router = APIRouter(tags=["audit"])


@router.get("/audit/logs", response_model=AuditPageOut, responses={403: {}})
async def audit_logs(
    _reader: Annotated[Principal, require_caps("audit:read")],
    rt: RuntimeDep,
    user_id: Annotated[str | None, Query(alias="userId", max_length=64)] = None,
    type: Annotated[str | None, Query(max_length=1000)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Response:
    """Newest first; `type` takes a comma-separated list; `since` inclusive, `until` exclusive."""
    query = audit.AuditQuery(user_id=user_id, types=type, since=since, until=until, cursor=cursor, limit=limit)
    page = await audit.entries(rt, query)
    items = [AuditEntryOut.of(entry) for entry in page.items]
    return json_response(AuditPageOut(items=items, next_cursor=page.next_cursor))
