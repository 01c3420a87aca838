"""`/ui/static/*` (the stylesheets, `passkey.js`, a logo), from the override directory first;
and the 404 page for every other `/ui/…` path, and for a file that is not there."""

from __future__ import annotations

import mimetypes

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse

from authgate.ui.deps import PageDep
from authgate.ui.forms import one_error
from authgate.ui.messages import PROBLEMS
from authgate.ui.page import Page, open_page
from authgate.ui.templating import Pages

router = APIRouter(include_in_schema=False)
STATIC_CACHE = "public, max-age=3600"
TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}


@router.get("/ui/static/{name}")
async def static(name: str, request: Request) -> Response:
    """A file, without reading the session (a stylesheet's load must not rotate a refresh
    token); a missing one is the 404 page, for which the session is read and never rotated."""
    pages: Pages = request.app.state.pages
    found = pages.find(f"static/{name}") if "/" not in name and not name.startswith(".") else None
    if found is None:
        return _not_found(await open_page(request, rotate=False))
    media = TYPES.get(found.suffix) or mimetypes.guess_type(found.name)[0] or "application/octet-stream"
    return FileResponse(
        found, media_type=media, headers={"Cache-Control": STATIC_CACHE, "X-Content-Type-Options": "nosniff"}
    )


not_found = APIRouter(include_in_schema=False)


@not_found.api_route("/ui/{rest:path}", methods=["GET", "POST"])
async def unknown(rest: str, page: PageDep) -> Response:
    return _not_found(page)


def _not_found(page: Page) -> Response:
    return page.render("ui/error.html", status=404, errors=one_error(PROBLEMS["not_found"], status=404))
