"""The anonymous pages: sign in, register, the second step, forgot and reset, verify email,
magic links, sign out. Each POST calls the use case its API twin calls, through the same limits
and CAPTCHA, and answers 303 on success or the form again with the API's status."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Response

from authgate.errors import AuthError, ErrorCode, FieldError, status_of, validation_failed
from authgate.http.abuse import Body, email_identifier, limit, login_identifier
from authgate.http.cookies import (
    ACCESS_COOKIE,
    MFA_COOKIE,
    REFRESH_COOKIE,
    PendingStep,
    clear_mfa_cookie,
    pending_step,
    set_mfa_cookie,
)
from authgate.http.routes import oauth as oauth_routes
from authgate.methods.code import flows as code_flows
from authgate.methods.code.factor import CODE
from authgate.methods.link import flows as link_flows
from authgate.methods.oauth import flows as oauth_flows
from authgate.methods.passkey import signin as passkey_signin
from authgate.methods.password import signin as password_signin
from authgate.methods.password.factor import PasswordAttempt
from authgate.security.identifiers import normalize_email
from authgate.security.origins import origin_of
from authgate.services import accounts, onboarding
from authgate.services import refresh as refresh_service
from authgate.signin import gate
from authgate.signin.registration import Registration
from authgate.signin.sessions import LoginResult
from authgate.ui import app_request
from authgate.ui.deps import Form, PageDep, Posted
from authgate.ui.forms import errors_of, kept, one_error
from authgate.ui.messages import N_, problem_text
from authgate.ui.page import Page

router = APIRouter(include_in_schema=False)
HOME = "/ui/account"
MAX_CREDENTIAL_CHARS = 16 * 1024

LOGIN_FIELDS = frozenset({"email", "username", "password"})


def _absolute(page: Page, target: str | None) -> str | None:
    """A checked `return_to` as an emailed link keeps it: an absolute URL."""
    if target is None or not target.startswith("/"):
        return target
    return (origin_of(page.settings.public_url) or "") + target


def _back(target: str | None, fallback: str = HOME) -> str:
    return target or fallback


def providers(page: Page) -> list[str]:
    return sorted(page.rt.providers)


def passkeys_on(page: Page) -> bool:
    return page.settings.relying_party is not None


# --- sign in ----------------------------------------------------------------------------------------


async def _login_page(
    page: Page, *, status: int = 200, errors: Any = None, values: dict[str, str] | None = None
) -> Response:
    target = page.return_to(values.get("return_to") if values else None)
    client_name = await app_request.follow(page, target) or await app_request.app_name(page, page.query("client_id"))
    shown = dict(values or {})
    hint = page.query("login_hint")
    if hint and not shown:
        shown[page.settings.ui_identifier.value] = hint
    error_code = page.query("error")
    if errors is None and error_code and (message := problem_text(error_code)) is not None:
        errors = one_error(message)
    query = f"?{urlencode({'return_to': target})}" if target else ""
    return page.render(
        "ui/login.html",
        status=status,
        errors=errors,
        values=shown,
        return_to=target,
        query=query,
        providers=providers(page),
        passkeys=passkeys_on(page),
        identifier=page.settings.ui_identifier.value,
        client_name=client_name,
    )


@router.get("/ui/")
async def home(page: PageDep) -> Response:
    return page.redirect(HOME if page.viewer is not None else "/ui/login")


@router.get("/ui/login")
async def login_form(page: PageDep) -> Response:
    if page.viewer is not None and page.query("prompt") != "login":
        return page.redirect(_back(page.return_to()))
    return await _login_page(page)


async def _end_earlier_session(page: Page) -> None:
    """A sign-in in a browser that held a session ends that one (`session.revoked`, `logout`)."""
    request = page.request
    if page.viewer is not None or request.cookies.get(REFRESH_COOKIE):
        try:
            await refresh_service.logout(
                page.rt,
                access_token=request.cookies.get(ACCESS_COOKIE),
                refresh_token=request.cookies.get(REFRESH_COOKIE),
            )
        except AuthError:
            pass


async def signed_in(page: Page, result: LoginResult, target: str | None) -> Response:
    await _end_earlier_session(page)
    page.sign_in(result)
    page.cookie_writes.append(lambda response: clear_mfa_cookie(response, page.settings))
    return page.redirect(_back(target))


def second_step_due(page: Page, exc: AuthError, target: str | None) -> Response:
    step = PendingStep(exc.extra["mfaToken"], target, tuple(exc.extra.get("mfaMethods", ())))
    page.cookie_writes.append(lambda response: set_mfa_cookie(response, page.settings, step))
    return page.redirect("/ui/mfa")


def credential_of(form: Form) -> dict[str, Any]:
    raw = form.get("credential") or ""
    if len(raw) > MAX_CREDENTIAL_CHARS:
        raise validation_failed(FieldError("credential", "The passkey's answer is too large."))
    try:
        credential = json.loads(raw)
    except ValueError:
        credential = None
    if not isinstance(credential, dict) or not form.get("challengeId"):
        raise validation_failed(FieldError("credential", "The passkey's answer could not be read. Try again."))
    return credential


def _signs_in_by(page: Page) -> Callable[[Body], str | None]:
    """The `login.identifier` key: the field the form signs in by (`_attempt`), so another
    field sent beside it cannot move the count elsewhere."""
    field = page.settings.ui_identifier.value
    return lambda body: login_identifier({field: body.get(field)})


def _attempt(page: Page, form: Form) -> PasswordAttempt:
    errors: list[FieldError] = []
    password = form.get("password")
    if password is None:
        errors.append(FieldError("password", N_("Enter your password.")))
    email = username = None
    if page.settings.ui_identifier.value == "email":
        try:
            email = normalize_email(form.get("email") or "")
        except ValueError:
            errors.insert(0, FieldError("email", N_("Enter an email address like name@example.com.")))
    else:
        username = form.get("username")
        if username is None:
            errors.insert(0, FieldError("username", N_("Enter your username.")))
    if errors:
        raise validation_failed(*errors)
    return PasswordAttempt(password=password or "", email=email, username=username)


@router.post("/ui/login")
async def login(form: Posted) -> Response:
    page = form.page
    target = page.return_to(form.get("return_to"))
    try:
        if form.get("credential") is not None:
            await limit(page.rt, page.ctx, "passkey", form.fields)
            credential = credential_of(form)
            result = await passkey_signin.login(
                page.rt, challenge_id=form.get("challengeId") or "", credential=credential, ctx=page.ctx
            )
        else:
            await limit(
                page.rt,
                page.ctx,
                "login",
                form.fields,
                identifier=_signs_in_by(page),
                captcha=True,
                captcha_token=captcha_token(form),
            )
            result = await password_signin.login(page.rt, _attempt(page, form), None, page.ctx)
    except AuthError as exc:
        if exc.code == ErrorCode.MFA_REQUIRED:
            return second_step_due(page, exc, target)
        errors = errors_of(exc, on_form=LOGIN_FIELDS | {"credential"})
        return await _login_page(page, status=errors.status, errors=errors, values=kept(form.fields))
    return await signed_in(page, result, target)


def captcha_token(form: Form) -> str | None:
    """The CAPTCHA widgets' own field names, or `captchaToken`."""
    for name in ("captchaToken", "altcha", "cf-turnstile-response", "h-captcha-response", "g-recaptcha-response"):
        if value := form.get(name):
            return value
    return None


# --- the second step ------------------------------------------------------------------------------


def _pending(page: Page) -> PendingStep | None:
    return pending_step(page.request.cookies.get(MFA_COOKIE))


def _mfa_page(page: Page, step: PendingStep, *, status: int = 200, errors: Any = None) -> Response:
    return page.render(
        "ui/mfa.html",
        status=status,
        errors=errors,
        passkey="passkey" in step.methods and passkeys_on(page),
        sent_code=CODE.name in step.methods,
        authenticator="totp" in step.methods,
    )


@router.get("/ui/mfa")
async def mfa_form(page: PageDep) -> Response:
    step = _pending(page)
    if step is None:
        return page.redirect("/ui/login")
    await app_request.follow(page, step.return_to)
    return _mfa_page(page, step)


@router.post("/ui/mfa")
async def mfa(form: Posted) -> Response:
    page = form.page
    step = _pending(page)
    if step is None:
        return page.redirect("/ui/login")
    try:
        await limit(page.rt, page.ctx, "mfa", form.fields)
        if form.get("send") is not None:
            await code_flows.send_for_challenge(page.rt, mfa_token=step.mfa_token)
            return page.redirect("/ui/mfa", notice="code_sent")
        if form.get("credential") is not None:
            credential = credential_of(form)
            assertion = passkey_signin.second_step_assertion(
                page.rt, challenge_id=form.get("challengeId") or "", credential=credential
            )
            result = await gate.verify_challenge(
                page.rt, mfa_token=step.mfa_token, code=None, method=None, ctx=page.ctx, assertion=assertion
            )
        else:
            code = form.get("code")
            if code is None:
                raise validation_failed(FieldError("code", N_("Enter the code.")))
            result = await gate.verify_challenge(
                page.rt, mfa_token=step.mfa_token, code=code, method=None, ctx=page.ctx
            )
    except AuthError as exc:
        if exc.code == ErrorCode.INVALID_TOKEN and exc.status == 401:  # the step expired or ran out of tries
            # (a passkey challenge used or expired is 400: the step lives on, the form again)
            page.cookie_writes.append(lambda response: clear_mfa_cookie(response, page.settings))
            return page.redirect("/ui/login?" + urlencode({"error": "invalid_mfa_code"}))
        errors = errors_of(exc, on_form=frozenset({"code", "credential"}))
        await app_request.follow(page, step.return_to)
        return _mfa_page(page, step, status=errors.status, errors=errors)
    return await signed_in(page, result, page.return_to(step.return_to))


# --- register --------------------------------------------------------------------------------------

REGISTER_FIELDS = frozenset({"email", "password", "name"})


def _register_page(
    page: Page, *, status: int = 200, errors: Any = None, values: dict[str, str] | None = None
) -> Response:
    target = page.return_to((values or {}).get("return_to"))
    return page.render(
        "ui/register.html",
        status=status,
        errors=errors,
        values=values or {},
        return_to=target,
        min_length=page.settings.password_min_length,
    )


@router.get("/ui/register")
async def register_form(page: PageDep) -> Response:
    await app_request.follow(page, page.return_to())
    return _register_page(page)


@router.post("/ui/register")
async def register(form: Posted) -> Response:
    page = form.page
    target = page.return_to(form.get("return_to"))
    try:
        await limit(page.rt, page.ctx, "register", form.fields, captcha=True, captcha_token=captcha_token(form))
        reg = Registration(email=form.fields.get("email", ""), password=form.get("password"), name=form.get("name"))
        if reg.password is None:
            raise validation_failed(FieldError("password", N_("Choose a password.")))
        welcome = onboarding.Welcome(verify_email=True, redirect_to=_absolute(page, target))
        registered = await accounts.register(page.rt, reg, welcome, page.ctx)
    except AuthError as exc:
        errors = errors_of(exc, on_form=REGISTER_FIELDS)
        await app_request.follow(page, target)
        return _register_page(page, status=errors.status, errors=errors, values=kept(form.fields))
    if registered.result is None:
        return page.redirect("/ui/verify-email" + (f"?{urlencode({'return_to': target})}" if target else ""))
    return await signed_in(page, registered.result, target)


# --- forgot and reset ----------------------------------------------------------------------------------


@router.get("/ui/forgot")
async def forgot_form(page: PageDep) -> Response:
    return page.render("ui/forgot.html", return_to=page.return_to())


@router.post("/ui/forgot")
async def forgot(form: Posted) -> Response:
    return await _ask_for_link(form, area="password_forgot", purpose=link_flows.RESET_PASSWORD, template="forgot")


async def _ask_for_link(
    form: Form, *, area: str, purpose: str, template: str, identifier: Callable[[Body], str | None] | None = None
) -> Response:
    """A form that asks for an emailed link (reset, magic link, verification): it answers the
    same for every address; the link keeps `return_to` with its token."""
    page = form.page
    target = page.return_to(form.get("return_to"))
    try:
        captcha = purpose != link_flows.VERIFY_EMAIL
        await limit(
            page.rt,
            page.ctx,
            area,
            form.fields,
            identifier=identifier,
            captcha=captcha,
            captcha_token=captcha_token(form),
        )
        email = form.fields.get("email", "")
        await link_flows.request_link(
            page.rt, purpose=purpose, email=email, redirect_to=_absolute(page, target), page=True
        )
    except AuthError as exc:
        errors = errors_of(exc, on_form=frozenset({"email"}))
        return page.render(
            f"ui/{template}.html", status=errors.status, errors=errors, values=kept(form.fields), return_to=target
        )
    if purpose == link_flows.VERIFY_EMAIL:
        back = "/ui/verify-email" + (f"?{urlencode({'return_to': target})}" if target else "")
        return page.redirect(back, notice="verification_sent")
    return page.redirect(f"/ui/{template.replace('_', '-')}/sent")


@router.get("/ui/forgot/sent")
async def forgot_sent(page: PageDep) -> Response:
    return page.render("ui/sent.html", title=N_("Check your email"), kind="reset")


def _link_page(page: Page) -> Response:
    return page.render("ui/link_invalid.html", status=400)


@router.get("/ui/reset/{token}")
async def reset_form(token: str, page: PageDep) -> Response:
    try:
        await link_flows.check_reset_link(page.rt, token=token)
    except AuthError:
        return _link_page(page)
    return page.render("ui/reset.html", min_length=page.settings.password_min_length)


@router.post("/ui/reset/{token}")
async def reset(token: str, form: Posted) -> Response:
    page = form.page
    try:
        await limit(page.rt, page.ctx, "link", form.fields)
        password = form.get("password")
        if password is None:
            raise validation_failed(FieldError("password", N_("Choose a new password.")))
        done = await link_flows.reset_password(page.rt, token=token, password=password)
    except AuthError as exc:
        if exc.code == ErrorCode.INVALID_TOKEN:
            return _link_page(page)
        errors = errors_of(exc, on_form=frozenset({"password"}))
        return page.render(
            "ui/reset.html", status=errors.status, errors=errors, min_length=page.settings.password_min_length
        )
    query = {"notice": "password_reset"}
    if done.redirect_to:
        query["return_to"] = done.redirect_to
    return page.redirect("/ui/login?" + urlencode(query))


# --- verify email ------------------------------------------------------------------------------------


@router.get("/ui/verify-email")
async def verify_email_form(page: PageDep) -> Response:
    return page.render("ui/verify_email.html", return_to=page.return_to())


@router.post("/ui/verify-email")
async def verify_email_resend(form: Posted) -> Response:
    return await _ask_for_link(
        form, area="email_verify", purpose=link_flows.VERIFY_EMAIL, template="verify_email", identifier=email_identifier
    )


@router.get("/ui/verify-email/{token}")
async def verify_email(token: str, page: PageDep) -> Response:
    try:
        await limit(page.rt, page.ctx, "link", {})
        target = await link_flows.verify_email(page.rt, token=token)
    except AuthError:
        return _link_page(page)
    if page.viewer is not None:
        return page.render("ui/verified.html", next_url=target or HOME, signed_in=True)
    login = "/ui/login" + (f"?{urlencode({'return_to': target})}" if target else "")
    return page.render("ui/verified.html", next_url=login, signed_in=False)


# --- magic links -------------------------------------------------------------------------------------


@router.get("/ui/magic-link")
async def magic_link_form(page: PageDep) -> Response:
    return page.render("ui/magic_link.html", return_to=page.return_to())


@router.post("/ui/magic-link")
async def magic_link(form: Posted) -> Response:
    return await _ask_for_link(form, area="magic_link", purpose=link_flows.MAGIC_LINK, template="magic_link")


@router.get("/ui/magic-link/sent")
async def magic_link_sent(page: PageDep) -> Response:
    return page.render("ui/sent.html", title=N_("Check your email"), kind="magic")


@router.get("/ui/magic-link/{token}")
async def magic_link_continue(token: str, page: PageDep) -> Response:
    """A GET never uses the link: mail scanners open links."""
    await app_request.follow(page, page.return_to(await link_flows.magic_link_target(page.rt, token=token)))
    return page.render("ui/magic_continue.html")


@router.post("/ui/magic-link/{token}")
async def magic_link_use(token: str, form: Posted) -> Response:
    page = form.page
    try:
        await limit(page.rt, page.ctx, "link", form.fields)
        target = await link_flows.magic_link_target(page.rt, token=token)  # read before the link is used up
        used = await link_flows.sign_in_with_link(page.rt, token=token, ctx=page.ctx)
    except AuthError as exc:
        if exc.code == ErrorCode.MFA_REQUIRED:
            return second_step_due(page, exc, page.return_to(target))
        if exc.code == ErrorCode.INVALID_TOKEN:
            return _link_page(page)
        errors = errors_of(exc, on_form=frozenset())
        return page.render("ui/magic_continue.html", status=errors.status, errors=errors)
    if used.result is None:  # a native app's link: its code goes to the app
        return _link_page(page)
    return await signed_in(page, used.result, page.return_to(used.redirect_to))


# --- sign in at a provider -------------------------------------------------------------------------------


@router.get("/ui/oauth/{provider}")
async def provider_sign_in(provider: str, page: PageDep) -> Response:
    """A link, not a form (CSP's form-action would also govern the provider's redirects); the
    flow's callback answers as the pages do (http/routes/oauth.py)."""
    request = page.request
    try:
        await limit(page.rt, page.ctx, "oauth", {})
        started = await oauth_flows.begin(
            page.rt,
            provider=provider,
            redirect_to=_absolute(page, page.return_to()),
            browser_cookie=oauth_routes.browser(request, page.settings),
            hosted=True,
        )
    except AuthError as exc:
        return page.redirect("/ui/login?" + urlencode({"error": exc.code.value}))
    page.cookie_writes.append(lambda response: oauth_routes.bind_browser(response, page.settings, started.browser))
    return page.finish(Response(status_code=303, headers={"Location": started.url}))


# --- sign out ---------------------------------------------------------------------------------------------


@router.get("/ui/logout")
async def logout_form(page: PageDep) -> Response:
    return page.render("ui/logout.html", return_to=page.return_to())


@router.post("/ui/logout")
async def logout(form: Posted) -> Response:
    page = form.page
    target = page.return_to(form.get("return_to"))
    await _end_earlier_session(page)
    page.sign_out()
    return page.redirect(target or "/ui/login?notice=signed_out")


# --- errors ---------------------------------------------------------------------------------------------


@router.get("/ui/error")
async def error_page(page: PageDep) -> Response:
    """A problem code's message, with the status the API answers that code with; a code the
    API never sends: the generic message, 400."""
    code = page.query("code")
    known = status_of(code)
    status = known or 400
    message = (problem_text(code) if known else None) or N_("Something went wrong.")
    return page.render("ui/error.html", status=status, errors=one_error(message, status=status))
