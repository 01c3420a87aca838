"""What the sign-in pages know of an app's pending OpenID Connect request: its name (shown as
"to continue to …"), its `ui_locales` (the pages of its flow speak them), and its redirect
URI's origin, which the pages' CSP `form-action` must allow while the request is pending,
because the redirect chain of their forms ends there and browsers check `form-action` along it."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from authgate.security.oauth2 import redirect_origin
from authgate.services.oauth2 import authorize
from authgate.services.oauth2 import clients as client_service
from authgate.settings import Settings
from authgate.ui.page import Page

CONTINUE = "/oauth2/authorize/continue"
BINDING_COOKIES = ("__Host-authgate-oauth", "authgate-oauth")


def request_id_of(target: str | None, public_origin: str) -> str | None:
    """The pending request's id, when `target` is the provider's continuation path (as a path,
    or an absolute URL on this server, as emailed links keep it)."""
    if not target:
        return None
    parts = urlsplit(target)
    if (parts.scheme or parts.netloc) and f"{parts.scheme}://{parts.netloc}".lower() != public_origin:
        return None
    if parts.path != CONTINUE:
        return None
    return dict(parse_qsl(parts.query)).get("request")


def binding_cookie(settings: Settings) -> str:
    """The cookie that binds pending requests to this browser (`__Host-` under HTTPS)."""
    return BINDING_COOKIES[0] if settings.cookie_secure else BINDING_COOKIES[1]


def browser_binding(page: Page) -> str | None:
    return page.request.cookies.get(binding_cookie(page.settings)) or None


async def follow(page: Page, target: str | None) -> str | None:
    """When `target` continues a live request of this browser: allow its redirect origin in
    `form-action`, speak its `ui_locales`, and return the app's name."""
    if not page.settings.oidc_provider:
        return None
    request_id = request_id_of(target, page.settings.public_origin)
    if request_id is None:
        return None
    found = await authorize.pending(page.rt, request_id, binding=browser_binding(page))
    if not isinstance(found, authorize.Request):
        return None
    page.form_targets = (*page.form_targets, redirect_origin(found.redirect_uri))
    page.speak_for(found.ui_locales)
    client = await client_service.live_client(page.rt, found.client_id)
    return client.name if client is not None else None


async def app_name(page: Page, client_id: str | None) -> str | None:
    """The name of a live client, for "to continue to …"."""
    if not page.settings.oidc_provider or not client_id:
        return None
    client = await client_service.live_client(page.rt, client_id)
    return client.name if client is not None else None
