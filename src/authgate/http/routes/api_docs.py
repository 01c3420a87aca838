"""The OpenAPI document and its browsable page, at the root only (`AUTHGATE_API_DOCS=false`
turns both off).

The page loads Swagger UI from this server, from the files of the pinned `swagger-ui-py`
package, never from a CDN: what runs on the page is what was installed and tested, and it
does not change when a CDN serves a new release or is compromised. The tags also carry
Subresource Integrity digests, and the page's Content-Security-Policy lets it run scripts from
this origin only.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from importlib.util import find_spec
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException

router = APIRouter(include_in_schema=False)

ASSETS = {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css", "init.js": "text/javascript"}
INIT_JS = b"""window.onload = function () {
  window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true});
};
"""
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


@cache
def _asset(name: str) -> bytes:
    if name == "init.js":
        return INIT_JS
    spec = find_spec("swagger_ui")  # locates the package without running it
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("swagger-ui-py is not installed")
    return (Path(next(iter(spec.submodule_search_locations))) / "static" / name).read_bytes()


def integrity(name: str) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(_asset(name)).digest()).decode()


@cache
def _page() -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>authgate API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css" integrity="{integrity("swagger-ui.css")}">
</head><body><div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js" integrity="{integrity("swagger-ui-bundle.js")}"></script>
<script src="/docs/init.js" integrity="{integrity("init.js")}"></script>
</body></html>"""


@router.get("/openapi.json")
async def openapi_document(request: Request) -> JSONResponse:
    return JSONResponse(request.app.openapi())


@router.get("/docs")
async def docs_page() -> HTMLResponse:
    return HTMLResponse(_page(), headers=PAGE_HEADERS)


@router.get("/docs/{name}")
async def docs_asset(name: str) -> Response:
    media_type = ASSETS.get(name)
    if media_type is None:
        raise HTTPException(404)
    # Immutable for as long as this version runs; a new release changes the integrity digests.
    return Response(_asset(name), media_type=media_type, headers={"Cache-Control": "public, max-age=3600"})
