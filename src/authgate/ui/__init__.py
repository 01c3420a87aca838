"""The hosted pages: the second edge, beside http/. Pages call the use cases as the API does,
never the API itself (docs/hosted-pages.md)."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request, Response

from authgate.settings import Settings
from authgate.ui.page import PageAnswer
from authgate.ui.routes import account, admin, assets, passkeys, reauth, signin
from authgate.ui.templating import Pages


def routers(settings: Settings) -> list[APIRouter]:
    """The page routers the settings ask for, the 404 page last."""
    if not settings.ui:
        return []
    admin_routers = [admin.router] if settings.ui_admin else []
    return [
        signin.router,
        reauth.router,
        passkeys.router,
        account.router,
        *admin_routers,
        assets.router,
        assets.not_found,
    ]


async def _answer(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageAnswer)
    return exc.response


def install(app: FastAPI, settings: Settings) -> None:
    """The template tree (checked now: a bad template stops the start) and the page answers."""
    app.state.pages = Pages.build(settings)
    app.add_exception_handler(PageAnswer, _answer)
