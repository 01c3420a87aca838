"""A small service of your own, protected by authgate's tokens with `authgate.client`.

Run it beside authgate (which issues the tokens):

    AUTHGATE_URL=http://localhost:8000 .venv/bin/uvicorn profile_service:app --app-dir examples --port 8001

It verifies tokens locally, without calling authgate per request:
- with the JWKS, when authgate signs with EdDSA, ES256 or RS256 (AUTHGATE_JWT_ALGORITHM);
- with the shared secret, when JWT_SECRET is set here (authgate's HS256 default).
With a service credential (`authgate service create --name profile-service`) in
AUTHGATE_CLIENT_ID / AUTHGATE_CLIENT_SECRET, the sensitive route also asks authgate whether the
session is still live (introspection), so a logout or a disabled account stops it at once.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI

from authgate.client import (
    AuthgateError,
    Claims,
    TokenVerifier,
    problem_response,
    require_authenticated,
    require_caps,
    require_role,
)

AUTHGATE_URL = os.environ.get("AUTHGATE_URL", "http://localhost:8000").rstrip("/")
JWT_SECRET = os.environ.get("JWT_SECRET")
CLIENT_ID = os.environ.get("AUTHGATE_CLIENT_ID")
CLIENT_SECRET = os.environ.get("AUTHGATE_CLIENT_SECRET")
INTROSPECTION_CACHE_SECONDS = float(os.environ.get("AUTHGATE_INTROSPECTION_CACHE_SECONDS", "5"))


def make_verifier(*, live: bool = False) -> TokenVerifier:
    """Local verification; with `live`, and a credential, introspection as well."""
    keys: dict[str, Any] = (
        {"secret": JWT_SECRET} if JWT_SECRET else {"jwks_url": f"{AUTHGATE_URL}/.well-known/jwks.json"}
    )
    if live and CLIENT_ID and CLIENT_SECRET:
        keys.update(
            introspection_url=f"{AUTHGATE_URL}/token/introspect",
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            introspection_cache_seconds=INTROSPECTION_CACHE_SECONDS,
        )
    return TokenVerifier(issuer=AUTHGATE_URL, **keys)


verifier = make_verifier()
live_verifier = make_verifier(live=True)


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    yield
    await verifier.aclose()
    await live_verifier.aclose()


app = FastAPI(title="profile-service", lifespan=lifespan)
app.add_exception_handler(AuthgateError, problem_response)  # 401/403 as problem documents


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/api/profile")
async def profile(claims: Claims = Depends(require_authenticated(verifier))) -> dict[str, Any]:
    return {"id": claims["sub"], "email": claims["email"]}


@app.delete("/api/things/{thing_id}")
async def delete_thing(
    thing_id: str, claims: Claims = Depends(require_caps(live_verifier, "things:write"))
) -> dict[str, str]:
    return {"deleted": thing_id, "by": claims["sub"]}


@app.get("/api/admin/report")
async def admin_report(claims: Claims = Depends(require_role(verifier, "admin"))) -> dict[str, str]:
    return {"report": "ok", "for": claims["sub"]}
