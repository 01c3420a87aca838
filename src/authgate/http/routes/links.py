"""Email verification, password reset and magic links."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from authgate.errors import AuthError, ErrorCode
from authgate.http.abuse import guarded
from authgate.http.cookies import set_auth_cookies
from authgate.http.deps import Context, RuntimeDep
from authgate.http.forms import FORM_TYPE, is_form
from authgate.http.openapi import SIGN_IN, pages
from authgate.http.pages import page, reset_form, text, wants_html
from authgate.http.responses import login_out
from authgate.http.schemas.accounts import LoginOut
from authgate.http.schemas.links import (
    EmailVerifiedOut,
    LinkRequestIn,
    MagicLinkIn,
    MessageOut,
    ResetIn,
    ResetValidOut,
)
from authgate.methods.link import flows as link_flows
from authgate.security.origins import origin_of
from authgate.security.redirects import with_query

router = APIRouter(tags=["email links"])

# Path patterns (see http/middleware.Edge) that may take an HTML form post: the reset form.
FORM_PATHS = ("/password/reset/*",)

ACCEPTED = "If an account exists for this address, we have sent it an email."
_PASSWORD_BODY = {"type": "object", "required": ["password"], "properties": {"password": {"type": "string"}}}
RESET_BODY_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": _PASSWORD_BODY}, FORM_TYPE: {"schema": _PASSWORD_BODY}},
    }
}


def _invalid_page(exc: AuthError) -> Response:
    return page("This link does not work", f"<p>{text(exc.detail or exc.title)}</p>", exc.status)


@router.post(
    "/email/verify",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=MessageOut,
    dependencies=[guarded("email_verify")],
)
async def request_verification(body: LinkRequestIn, rt: RuntimeDep) -> MessageOut:
    await link_flows.request_link(rt, purpose=link_flows.VERIFY_EMAIL, email=body.email, redirect_to=body.redirect_to)
    return MessageOut(message=ACCEPTED)


@router.get(
    "/email/verify/{token}",
    response_model=EmailVerifiedOut,
    responses={302: {}, **pages(200, 400)},
    dependencies=[guarded("link")],
)
async def verify_email(token: str, request: Request, rt: RuntimeDep) -> Response | EmailVerifiedOut:
    if (to_page := _on_the_pages(request, rt, "/ui/verify-email/", token)) is not None:
        return to_page
    try:
        redirect_to = await link_flows.verify_email(rt, token=token)
    except AuthError as exc:
        if wants_html(request):
            return _invalid_page(exc)
        raise
    if redirect_to:
        return RedirectResponse(redirect_to, status_code=status.HTTP_302_FOUND)
    if wants_html(request):
        return page("Email address verified", "<p>Thank you: your email address is now verified.</p>")
    return EmailVerifiedOut(message="Email verified", email_verified=True)


@router.post(
    "/password/forgot",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=MessageOut,
    dependencies=[guarded("password_forgot", captcha=True)],
)
async def forgot_password(body: LinkRequestIn, rt: RuntimeDep) -> MessageOut:
    await link_flows.request_link(rt, purpose=link_flows.RESET_PASSWORD, email=body.email, redirect_to=body.redirect_to)
    return MessageOut(message=ACCEPTED)


@router.get(
    "/password/reset/{token}", response_model=ResetValidOut, responses=pages(200, 400), dependencies=[guarded("link")]
)
async def check_reset_link(token: str, request: Request, rt: RuntimeDep) -> Response | ResetValidOut:
    if (to_page := _on_the_pages(request, rt, "/ui/reset/", token)) is not None:
        return to_page
    try:
        await link_flows.check_reset_link(rt, token=token)
    except AuthError as exc:
        if wants_html(request):
            return _invalid_page(exc)
        raise
    if wants_html(request):
        return reset_form(min_length=rt.settings.password_min_length)
    return ResetValidOut(valid=True)


def _on_the_pages(request: Request, rt: RuntimeDep, page_path: str, token: str) -> Response | None:
    """While the hosted pages are on, a browser opening an emailed link is sent to the page that
    finishes its flow; API clients keep the JSON answers."""
    if not (rt.settings.ui and wants_html(request)):
        return None
    target = f"{origin_of(rt.settings.public_url)}{page_path}{quote(token, safe='')}"
    return RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER, headers={"Cache-Control": "no-store"})


async def _reset_from_form(token: str, request: Request, rt: RuntimeDep) -> Response:
    """The HTML form's post: answers are pages, errors re-show the form."""
    form = await request.form()
    password = form.get("password")
    if not isinstance(password, str) or not password:
        return reset_form(min_length=rt.settings.password_min_length, errors=["Enter a new password."], status_code=400)
    try:
        done = await link_flows.reset_password(rt, token=token, password=password)
    except AuthError as exc:
        if exc.code != ErrorCode.VALIDATION_FAILED:
            return _invalid_page(exc)
        messages = [e.message for e in exc.errors] or [exc.detail or exc.title]
        return reset_form(min_length=rt.settings.password_min_length, errors=messages, status_code=400)
    if done.redirect_to:
        return RedirectResponse(done.redirect_to, status_code=status.HTTP_303_SEE_OTHER)
    return page("Password changed", "<p>Your password has been changed, and every session signed out.</p>")


@router.post(
    "/password/reset/{token}",
    response_model=MessageOut,
    responses={303: {}, **pages(200, 400)},  # the HTML form's post: pages, and a redirect to redirectTo
    openapi_extra=RESET_BODY_DOC,
    dependencies=[guarded("link")],
)
async def reset_password(token: str, request: Request, rt: RuntimeDep) -> Response | MessageOut:
    if is_form(request):
        return await _reset_from_form(token, request, rt)
    try:
        body = ResetIn.model_validate_json(await request.body() or b"{}")
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from None
    await link_flows.reset_password(rt, token=token, password=body.password)
    return MessageOut(message="Password has been reset")


@router.post(
    "/login/magic",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=MessageOut,
    dependencies=[guarded("magic_link", captcha=True)],
)
async def request_magic_link(body: MagicLinkIn, rt: RuntimeDep) -> MessageOut:
    await link_flows.request_link(
        rt,
        purpose=link_flows.MAGIC_LINK,
        email=body.email,
        redirect_to=body.redirect_to,
        code_challenge=body.code_challenge,
        code_challenge_method=body.code_challenge_method,
    )
    return MessageOut(message=ACCEPTED)


@router.get(
    "/login/magic/{token}",
    response_model=LoginOut,
    responses={302: {}, **SIGN_IN},
    dependencies=[guarded("link")],
)
async def magic_sign_in(
    token: str, request: Request, response: Response, rt: RuntimeDep, ctx: Context
) -> Response | LoginOut:
    to_page = _on_the_pages(request, rt, "/ui/magic-link/", token)
    if to_page is not None and not await link_flows.opens_in_app(rt, token=token):
        return to_page  # a browser gets a button: opening a link (as mail scanners do) signs no one in
    signed_in = await link_flows.sign_in_with_link(rt, token=token, ctx=ctx)
    result = signed_in.result
    if result is None:  # a native app's link: the code goes to the app, which exchanges it at POST /token
        assert signed_in.redirect_to is not None and signed_in.code is not None
        target = with_query(signed_in.redirect_to, {"code": signed_in.code})
        return RedirectResponse(target, status_code=status.HTTP_302_FOUND)
    if signed_in.redirect_to:
        redirect = RedirectResponse(signed_in.redirect_to, status_code=status.HTTP_302_FOUND)
        set_auth_cookies(redirect, rt.settings, access_token=result.access_token, refresh_token=result.refresh_token)
        return redirect
    set_auth_cookies(response, rt.settings, access_token=result.access_token, refresh_token=result.refresh_token)
    return login_out(rt, result, "Login successful")
