"""Liveness, readiness and metrics, served at the root only."""

from __future__ import annotations

import hashlib
import hmac
from ipaddress import ip_address

from fastapi import APIRouter, Request, Response
from starlette.exceptions import HTTPException

from authgate.errors import invalid_token
from authgate.http.deps import RuntimeDep, bearer_token
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


FORWARDING_HEADERS = ("x-forwarded-for", "forwarded", "x-real-ip")


def _is_direct_loopback(request: Request) -> bool:
    """The TCP peer (not the address `X-Forwarded-For` names) is this host, and no proxy says
    it passed the request on. A reverse proxy on the same host connects from loopback for
    every client it forwards, so loopback alone would open the metrics to the internet."""
    peer = request.client.host if request.client else ""
    try:
        loopback = ip_address(peer).is_loopback
    except ValueError:
        return False
    return loopback and not any(name in request.headers for name in FORWARDING_HEADERS)


def _has_token(request: Request, token: str) -> bool:
    """Compared as digests, in constant time: neither the token's bytes nor its length show."""
    given = bearer_token(request) or ""
    return hmac.compare_digest(hashlib.sha256(given.encode()).digest(), hashlib.sha256(token.encode()).digest())


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request, rt: RuntimeDep) -> Response:
    """With AUTHGATE_METRICS_TOKEN, for its bearer only; without, for a direct loopback
    connection only, and to anyone else a 404 like any unknown path's. At the root only: a
    route prefix that is rewritten to the root (`/auth/metrics`) finds nothing here."""
    token = rt.settings.metrics_token
    if "authgate.path" in request.scope:
        raise HTTPException(404)
    if token is not None:
        if not _has_token(request, token):
            raise invalid_token("Send the metrics token as `Authorization: Bearer <token>`.")
    elif not _is_direct_loopback(request):
        raise HTTPException(404)
    return Response(rt.metrics.render(), media_type=CONTENT_TYPE_LATEST)
