"""The hosted pages: the second edge, beside http/. Pages call the use cases as the API does,
never the API itself (docs/hosted-pages.md)."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request, Response

from authgate.settings import Settings
from authgate.ui.page import PageAnswer
from authgate.ui.routes import account, admin, assets, passkeys, provider, reauth, signin
from authgate.ui.templating import Pages


def routers(settings: Settings) -> list[APIRouter]:
    """The page routers the settings ask for, the 404 page last. With the pages off, the
    provider's own pages still need their stylesheets: `/ui/static/*` alone is served then, and
    every other `/ui/…` path stays the API's 404."""
    if not settings.ui:
        return [assets.router] if settings.oidc_provider else []
    admin_routers = [admin.router] if settings.ui_admin else []
    apps = [provider.account] if settings.oidc_provider else []
    return [
        signin.router,
        reauth.router,
        passkeys.router,
        account.router,
        *apps,
        *admin_routers,
        assets.router,
        assets.not_found,
    ]


def provider_routers(settings: Settings) -> list[APIRouter]:
    """The OpenID provider's browser endpoints (authorize, consent, logout), served while the
    provider is on whatever AUTHGATE_UI says; their pages come from the same templates."""
    return [provider.router] if settings.oidc_provider else []


PROVIDER_FORM_PATHS = provider.FORM_PATHS


async def _answer(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageAnswer)
    return exc.response


def install(app: FastAPI, settings: Settings) -> None:
    """The template tree (checked now: a bad template stops the start) and the page answers."""
    app.state.pages = Pages.build(settings)
    app.add_exception_handler(PageAnswer, _answer)
