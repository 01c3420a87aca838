"""`POST /ui/passkey/options`, for passkey.js only: the options of a ceremony the page's own form
then completes. It passes the pages' CSRF checks and answers problem documents, which the script
reads; the form's POST does the checking and signing in."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from authgate.errors import (
    AuthError,
    FieldError,
    forbidden,
    invalid_token,
    said,
    unsupported_media_type,
    validation_failed,
)
from authgate.http.abuse import limit
from authgate.http.cookies import MFA_COOKIE, pending_step
from authgate.http.forms import FORM_TYPE
from authgate.http.problems import from_auth_error
from authgate.http.responses import json_response
from authgate.http.schemas.passkeys import OptionsOut
from authgate.methods.passkey import enrol as passkey_enrol
from authgate.methods.passkey import reauth as passkey_reauth
from authgate.methods.passkey import signin as passkey_signin
from authgate.methods.passkey.signin import PasskeyOptions
from authgate.signin.reauth import Reauthentication
from authgate.ui.deps import PageDep, passes_csrf
from authgate.ui.forms import BadForm, NotAForm, read_form
from authgate.ui.page import Page

router = APIRouter(include_in_schema=False)
PURPOSES = ("login", "mfa", "reauth", "register")


async def _started(page: Page, purpose: str) -> PasskeyOptions:
    rt = page.rt
    if purpose == "login":
        await limit(rt, page.ctx, "passkey", {})
        return await passkey_signin.login_options(rt)
    if purpose == "mfa":
        await limit(rt, page.ctx, "mfa", {})
        step = pending_step(page.request.cookies.get(MFA_COOKIE))
        if step is None:
            raise invalid_token("No second step is pending.")
        return await passkey_signin.mfa_options(rt, mfa_token=step.mfa_token)
    if page.viewer is None:
        raise invalid_token("Authentication is required.")
    await limit(rt, page.ctx, "passkey", {})
    if purpose == "register":
        return await passkey_enrol.register_options(rt, principal=page.viewer, reauth=Reauthentication(), ctx=page.ctx)
    return await passkey_reauth.reauth_options(rt, page.viewer)


@router.post("/ui/passkey/options")
async def options(request: Request, page: PageDep) -> Response:
    try:
        fields = await read_form(request)
    except NotAForm:
        return page.finish(from_auth_error(unsupported_media_type(f"Send {FORM_TYPE}.")))
    except BadForm:
        fields = {}
    try:
        if not passes_csrf(page, fields):
            raise forbidden("This form has expired. Reload the page and try again.")
        purpose = fields.get("purpose", "")
        if purpose not in PURPOSES:
            raise validation_failed(FieldError("purpose", said("One of %(purposes)s.", purposes=", ".join(PURPOSES))))
        started = await _started(page, purpose)
    except AuthError as exc:
        return page.finish(from_auth_error(exc))
    return page.finish(json_response(OptionsOut.of(started)))
