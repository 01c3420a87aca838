"""The public keys that verify access tokens, for other services (RFC 7517 JWK Set)."""

from __future__ import annotations

import contextlib
from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel

from authgate.http.deps import RuntimeDep
from authgate.http.responses import json_response

router = APIRouter(tags=["keys"])
FRESH_SECONDS = 1.0  # the table is read again when this node's copy is older


class JwksOut(BaseModel):
    keys: list[dict[str, Any]]


@router.get(
    "/.well-known/jwks.json",
    response_model=JwksOut,
    summary="Public keys that verify access tokens",
    description=(
        "The signing key and the retired keys still in their grace period, as JWKs with `kid`, `alg` "
        "and `use`. Empty under HS256 (the shared secret is not published). `Cache-Control: max-age` "
        "never outlasts the moment a published key stops verifying."
    ),
)
async def jwks(rt: RuntimeDep) -> Response:
    with contextlib.suppress(Exception):  # a database hiccup: publish what this node knows
        await rt.keys.reload_if_older(FRESH_SECONDS)
    answer = json_response(JwksOut(keys=rt.keys.published()))
    answer.headers["Cache-Control"] = f"public, max-age={rt.keys.max_age()}"
    return answer
