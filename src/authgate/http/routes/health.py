"""Liveness, readiness and metrics, served at the root only."""

from __future__ import annotations

from fastapi import APIRouter, Response

from authgate.http.deps import RuntimeDep
from authgate.http.problems import problem_response
from authgate.observability.metrics import CONTENT_TYPE_LATEST

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", response_model=None)
async def readyz(rt: RuntimeDep) -> dict[str, str] | Response:
    missing = await rt.unready_part()
    if missing is not None:
        return problem_response(503, "not_ready", "Not ready", f"{missing} does not answer.")
    return {"status": "ready"}


@router.get("/metrics", include_in_schema=False)
async def metrics(rt: RuntimeDep) -> Response:
    return Response(rt.metrics.render(), media_type=CONTENT_TYPE_LATEST)
