"""The account pages: one's details and password, the second factors, passkeys, sessions and
linked providers. Each POST calls the use case its API twin calls (`PUT /user`, `/mfa/*`,
`/passkeys/*`, `/sessions`, `/oauth/link`) and answers 303 on success, or the form again with
the API's status; a change that needs a recent proof and has none goes to `/ui/reauth`, and
comes back here after it."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Response
from pydantic import BaseModel, ValidationError

from authgate.delivery.base import EMAIL, SMS
from authgate.errors import AuthError, ErrorCode, FieldError, said, validation_failed
from authgate.http.abuse import limit
from authgate.http.routes.oauth import bind_browser, browser
from authgate.http.routes.users import changes
from authgate.http.schemas.accounts import UpdateUserIn
from authgate.http.schemas.passkeys import RenameIn
from authgate.methods import second_factors
from authgate.methods.code import enrol as code_enrol
from authgate.methods.code import flows as code_flows
from authgate.methods.oauth import flows as oauth_flows
from authgate.methods.passkey import enrol as passkey_enrol
from authgate.methods.recovery import renew as recovery_renew
from authgate.methods.totp import enrol as totp_enrol
from authgate.oauth import ProviderUnavailable
from authgate.security import totp
from authgate.security.origins import origin_of
from authgate.services.admin import users as users_admin
from authgate.signin import reauth, sessions
from authgate.signin.reauth import Reauthentication, require_recent_sign_in
from authgate.ui.deps import AccountForm, AccountPage, Form
from authgate.ui.forms import FormErrors, errors_of, kept, one_error
from authgate.ui.messages import N_, PROBLEMS, problem_text
from authgate.ui.page import Page

router = APIRouter(include_in_schema=False)

HOME = "/ui/account"
MAX_CREDENTIAL_CHARS = 16 * 1024  # passkey.js's JSON of the browser's credential
SECRET_SHAPE = re.compile(r"[A-Z2-7]{16,128}")  # a base32 TOTP secret, as setup issues it

PROFILE_FIELDS = frozenset({"name", "username", "phone"})
PASSWORD_FIELDS = frozenset({"currentPassword", "password"})
TOTP_FIELDS = frozenset({"secret", "code", "currentPassword"})


# --- shared ---------------------------------------------------------------------------------------


def to_reauth(page: Page, back: str) -> Response:
    """A change that needs a recent proof of identity: prove it, then come back."""
    return page.redirect("/ui/reauth?" + urlencode({"return_to": back}))


def needs_reauth(exc: AuthError) -> bool:
    return exc.code == ErrorCode.REAUTHENTICATION_REQUIRED


def refusal(exc: AuthError, on_form: frozenset[str]) -> FormErrors:
    """The errors of a form that may carry the current password: a wrong one is told as such
    (the caller is signed in; there is no account to keep unnamed)."""
    if exc.code == ErrorCode.INVALID_CREDENTIALS and "currentPassword" in on_form:
        return one_error(N_("Your current password is not right."), on="currentPassword", status=exc.status)
    return errors_of(exc, on_form=on_form)


def when(moment: datetime | None) -> str | None:
    """A moment as the pages show it: UTC, to the minute."""
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment is not None else None


def checked(model: type[BaseModel], fields: Mapping[str, str]) -> Any:
    """The API's body for these form fields, by the API's own schema: its limits hold here too."""
    try:
        return model.model_validate(dict(fields))
    except ValidationError as exc:
        found: dict[str, str] = {}
        for error in exc.errors():
            name = ".".join(str(part) for part in error.get("loc", ())) or "form"
            if error.get("type") == "string_too_long":  # Pydantic's words, as a message the pages translate
                maximum = error.get("ctx", {}).get("max_length")
                found.setdefault(name, said("String should have at most %(max_length)s characters", max_length=maximum))
            found.setdefault(name, str(error.get("msg", "Invalid value.")))
        raise validation_failed(*(FieldError(name, message) for name, message in found.items())) from None


def passkeys_on(page: Page) -> bool:
    return page.settings.relying_party is not None


def _not_found(page: Page) -> Response:
    return page.render("ui/error.html", status=404, errors=one_error(PROBLEMS["not_found"], status=404))


# --- the account: details ------------------------------------------------------------------------


def _profile_page(
    page: Page, *, status: int = 200, errors: FormErrors | None = None, values: dict[str, str] | None = None
) -> Response:
    assert page.viewer is not None
    user = page.viewer.user
    shown = (
        values
        if values is not None
        else {"name": user.name or "", "username": user.username or "", "phone": user.phone or ""}
    )
    return page.render("ui/account.html", status=status, errors=errors, values=shown, user=user)


@router.get("/ui/account")
async def account(page: AccountPage) -> Response:
    return _profile_page(page)


@router.post("/ui/account")
async def save_profile(form: AccountForm) -> Response:
    page = form.page
    try:
        body = checked(UpdateUserIn, {name: form.fields[name] for name in PROFILE_FIELDS if name in form.fields})
        profile, admin = changes(body)
        await users_admin.update_user(
            page.rt, caller=form.viewer, user_id=form.viewer.user_id, change=profile, admin=admin, ctx=page.ctx
        )
    except AuthError as exc:
        if needs_reauth(exc):
            return to_reauth(page, HOME)
        errors = errors_of(exc, on_form=PROFILE_FIELDS)
        return _profile_page(page, status=errors.status, errors=errors, values=kept(form.fields))
    return page.redirect(HOME, notice="profile_saved")


# --- the account: password ------------------------------------------------------------------------


def _password_page(page: Page, *, status: int = 200, errors: FormErrors | None = None) -> Response:
    return page.render(
        "ui/account_password.html", status=status, errors=errors, min_length=page.settings.password_min_length
    )


@router.get("/ui/account/password")
async def password_form(page: AccountPage) -> Response:
    return _password_page(page)


@router.post("/ui/account/password")
async def change_password(form: AccountForm) -> Response:
    page = form.page
    try:
        if not form.get("password"):
            raise validation_failed(FieldError("password", N_("Choose a new password.")))
        body = checked(UpdateUserIn, {name: form.fields[name] for name in PASSWORD_FIELDS if name in form.fields})
        profile, admin = changes(body)
        await users_admin.update_user(
            page.rt, caller=form.viewer, user_id=form.viewer.user_id, change=profile, admin=admin, ctx=page.ctx
        )
    except AuthError as exc:
        if needs_reauth(exc):
            return to_reauth(page, "/ui/account/password")
        errors = refusal(exc, PASSWORD_FIELDS)
        return _password_page(page, status=errors.status, errors=errors)
    return page.redirect(HOME, notice="password_changed")


# --- second factors ---------------------------------------------------------------------------------


@router.get("/ui/account/mfa")
async def factors(page: AccountPage) -> Response:
    assert page.viewer is not None
    state = await second_factors.factor_state(page.rt, user_id=page.viewer.user_id)
    passkeys = await passkey_enrol.list_passkeys(page.rt, user_id=page.viewer.user_id) if passkeys_on(page) else None
    return page.render(
        "ui/account_mfa.html",
        state=state,
        passkey_count=len(passkeys) if passkeys is not None else None,
    )


def _totp_page(
    page: Page,
    *,
    secret: str,
    qr_code_url: str | None,
    ask_password: bool,
    status: int = 200,
    errors: FormErrors | None = None,
) -> Response:
    return page.render(
        "ui/account_totp.html",
        status=status,
        errors=errors,
        secret=secret,
        qr_code_url=qr_code_url,
        ask_password=ask_password,
        values={"secret": secret},
    )


def _qr_for(page: Page, secret: str) -> str | None:
    """The QR code of a secret posted back (it is checked against the pending one on enable)."""
    assert page.viewer is not None
    if not SECRET_SHAPE.fullmatch(secret):
        return None
    url = totp.otpauth_url(secret, account=page.viewer.user.email, issuer=page.settings.mfa_issuer)
    return totp.qr_data_url(url)


REAUTH_FOR_SETUP = "/ui/reauth?" + urlencode({"return_to": "/ui/account/mfa/totp"})


async def _new_setup(page: Page) -> Response:
    """A new secret; the enable that follows asks the password too when the proof this setup
    used cannot count again (`AUTHGATE_REAUTH_MAX_AGE_SECONDS=0`, or none that is recent)."""
    assert page.viewer is not None
    setup = await totp_enrol.setup_totp(page.rt, principal=page.viewer, reauth=Reauthentication(), ctx=page.ctx)
    asked = page.settings.reauth_max_age_seconds == 0 or not reauth.has_recent_proof(page.rt, page.viewer)
    return _totp_page(page, secret=setup.secret, qr_code_url=setup.qr_code_url, ask_password=asked)


@router.get("/ui/account/mfa/totp")
async def totp_form(page: AccountPage) -> Response:
    """Without a recent proof, `/ui/reauth` first (a GET never answers a POST's 200)."""
    try:
        return await _new_setup(page)
    except AuthError as exc:
        if needs_reauth(exc):
            return page.redirect(REAUTH_FOR_SETUP)
        if exc.code == ErrorCode.CONFLICT:  # already on: its secret is never shown again
            return page.redirect("/ui/account/mfa")
        raise


@router.post("/ui/account/mfa/totp")
async def totp_enable(form: AccountForm) -> Response:
    page = form.page
    password = form.get("currentPassword")
    secret = form.get("secret")
    if secret is None:
        return page.redirect(REAUTH_FOR_SETUP)
    try:
        code = form.get("code")
        if code is None:
            raise validation_failed(FieldError("code", N_("Enter the code.")))
        codes = await totp_enrol.enable_totp(
            page.rt,
            principal=form.viewer,
            secret=secret,
            code=code,
            reauth=Reauthentication(current_password=password),
            ctx=page.ctx,
        )
    except AuthError as exc:
        if exc.code == ErrorCode.CONFLICT:
            return page.redirect("/ui/account/mfa")
        ask = password is not None or needs_reauth(exc)
        if needs_reauth(exc):
            errors = one_error(PROBLEMS["reauthentication_required"], on="currentPassword", status=exc.status)
        else:
            errors = refusal(exc, TOTP_FIELDS)
        return _totp_page(
            page,
            secret=secret,
            qr_code_url=_qr_for(page, secret),
            ask_password=ask,
            status=errors.status,
            errors=errors,
        )
    return _codes_page(page, codes)


def _codes_page(page: Page, codes: list[str]) -> Response:
    """The one answer that shows a secret: the recovery codes, once (no-store, as every page)."""
    return page.render("ui/account_codes.html", codes=codes)


# --- recovery codes ------------------------------------------------------------------------------------


async def _codes_left_page(page: Page, *, status: int = 200, errors: FormErrors | None = None) -> Response:
    assert page.viewer is not None
    state = await second_factors.factor_state(page.rt, user_id=page.viewer.user_id)
    return page.render("ui/account_recovery.html", status=status, errors=errors, state=state)


@router.get("/ui/account/mfa/recovery-codes")
async def recovery_codes(page: AccountPage) -> Response:
    return await _codes_left_page(page)


@router.post("/ui/account/mfa/recovery-codes")
async def renew_codes(form: AccountForm) -> Response:
    page = form.page
    try:
        await limit(page.rt, page.ctx, "mfa", form.fields)
        code = form.get("code")
        if code is None:
            raise validation_failed(FieldError("code", N_("Enter the code.")))
        codes = await recovery_renew.renew_recovery_codes(page.rt, user=form.viewer.user, code=code, ctx=page.ctx)
    except AuthError as exc:
        errors = errors_of(exc, on_form=frozenset({"code"}))
        return await _codes_left_page(page, status=errors.status, errors=errors)
    return _codes_page(page, codes)


# --- turning the authenticator app off ----------------------------------------------------------------


def _disable_page(page: Page, *, status: int = 200, errors: FormErrors | None = None) -> Response:
    return page.render("ui/account_mfa_disable.html", status=status, errors=errors)


@router.get("/ui/account/mfa/disable")
async def disable_form(page: AccountPage) -> Response:
    return _disable_page(page)


async def _turn_off(
    form: Form, turn_off: Callable[[str], Awaitable[None]], shown: Callable[..., Response], notice: str
) -> Response:
    """A factor turned off by the `code` its form asks (the proof), back to the factors with
    `notice`; refused, the form (`shown`) again with the API's status."""
    try:
        code = form.get("code")
        if code is None:
            raise validation_failed(FieldError("code", N_("Enter the code.")))
        await turn_off(code)
    except AuthError as exc:
        errors = errors_of(exc, on_form=frozenset({"code"}))
        return shown(form.page, status=errors.status, errors=errors)
    return form.page.redirect("/ui/account/mfa", notice=notice)


@router.post("/ui/account/mfa/disable")
async def disable(form: AccountForm) -> Response:
    rt, user, ctx = form.page.rt, form.viewer.user, form.page.ctx
    return await _turn_off(
        form, lambda code: totp_enrol.disable_totp(rt, user=user, code=code, ctx=ctx), _disable_page, "mfa_disabled"
    )


# --- one-time codes by email or SMS as the second factor ----------------------------------------------

CODE_FACTOR = "/ui/account/mfa/code"
CODE_FACTOR_OFF = "/ui/account/mfa/code/disable"


def _channels(page: Page) -> list[str]:
    """Where codes can go: the account's email always, its phone when SMS is configured."""
    return [EMAIL, SMS] if page.settings.sms_webhook_url else [EMAIL]


def _code_page(page: Page, *, sent: str | None, status: int = 200, errors: FormErrors | None = None) -> Response:
    """The choice of where codes go, or, once one is sent (`sent`: its channel), the code's field."""
    assert page.viewer is not None
    return page.render(
        "ui/account_code.html",
        status=status,
        errors=errors,
        channels=_channels(page),
        sent=sent if sent in _channels(page) else None,
        email=page.viewer.user.email,
        phone=page.viewer.user.phone,
    )


@router.get(CODE_FACTOR)
async def code_factor_form(page: AccountPage) -> Response:
    """Codes by email or SMS: send one, then enter it. A proof of identity comes first, so the
    code is not sent for nothing."""
    assert page.viewer is not None
    state = await second_factors.factor_state(page.rt, user_id=page.viewer.user_id)
    if state.code_channel is not None:
        return page.redirect(CODE_FACTOR_OFF)
    if not reauth.has_recent_proof(page.rt, page.viewer):
        return to_reauth(page, CODE_FACTOR)
    return _code_page(page, sent=page.query("sent"))


@router.post(CODE_FACTOR + "/send")
async def code_factor_send(form: AccountForm) -> Response:
    page = form.page
    channel = form.get("channel") or ""
    try:
        if channel not in _channels(page):
            raise validation_failed(FieldError("channel", N_("Choose where the codes go.")))
        await limit(page.rt, page.ctx, "otp_send", form.fields)  # as POST /otp/send
        caller = form.viewer.user
        await code_flows.send_code(page.rt, channel=channel, purpose=code_flows.MFA, destination=None, caller=caller)
    except AuthError as exc:
        errors = errors_of(exc, on_form=frozenset({"channel"}))
        return _code_page(page, sent=None, status=errors.status, errors=errors)
    return page.redirect(f"{CODE_FACTOR}?{urlencode({'sent': channel})}", notice="code_sent")


@router.post(CODE_FACTOR)
async def code_factor_enable(form: AccountForm) -> Response:
    """`POST /otp/verify` with purpose `mfa`: the code proves the address or phone, and turns
    the factor on."""
    page = form.page
    channel = form.get("channel") or ""
    try:
        await limit(page.rt, page.ctx, "otp_verify", form.fields)
        code = form.get("code")
        if channel not in _channels(page):
            raise validation_failed(FieldError("code", N_("Send a code first.")))
        if code is None:
            raise validation_failed(FieldError("code", N_("Enter the code.")))
        check = code_flows.CodeCheck(channel=channel, code=code, destination=None)
        await code_enrol.enable_code_factor(
            page.rt, principal=form.viewer, check=check, reauth=Reauthentication(), ctx=page.ctx
        )
    except AuthError as exc:
        if needs_reauth(exc):
            return to_reauth(page, CODE_FACTOR)
        errors = errors_of(exc, on_form=frozenset({"code"}))
        return _code_page(page, sent=channel, status=errors.status, errors=errors)
    return page.redirect("/ui/account/mfa", notice="code_factor_on")


def _code_off_page(page: Page, *, status: int = 200, errors: FormErrors | None = None) -> Response:
    return page.render("ui/account_code_disable.html", status=status, errors=errors)


@router.get(CODE_FACTOR_OFF)
async def code_factor_disable_form(page: AccountPage) -> Response:
    assert page.viewer is not None
    state = await second_factors.factor_state(page.rt, user_id=page.viewer.user_id)
    if state.code_channel is None:
        return page.redirect("/ui/account/mfa")
    return _code_off_page(page)


@router.post(CODE_FACTOR_OFF + "/send")
async def code_factor_disable_send(form: AccountForm) -> Response:
    """A code for turning the factor off, sent where the factor sends its codes."""
    page = form.page
    try:
        await limit(page.rt, page.ctx, "otp_send", form.fields)  # as POST /otp/send
        channel = await code_flows.send_to_factor(page.rt, user=form.viewer.user)
    except AuthError as exc:
        errors = errors_of(exc, on_form=frozenset())
        return _code_off_page(page, status=errors.status, errors=errors)
    if channel is None:  # turned off meanwhile
        return page.redirect("/ui/account/mfa")
    return page.redirect(CODE_FACTOR_OFF, notice="code_sent")


@router.post(CODE_FACTOR_OFF)
async def code_factor_disable(form: AccountForm) -> Response:
    """`POST /otp/remove`: a code of any second factor that is on is the proof."""
    rt, user, ctx = form.page.rt, form.viewer.user, form.page.ctx
    return await _turn_off(
        form,
        lambda code: code_enrol.remove_code_factor(rt, user=user, code=code, ctx=ctx),
        _code_off_page,
        "code_factor_off",
    )


# --- passkeys ----------------------------------------------------------------------------------------------

PASSKEYS = "/ui/account/passkeys"


async def _passkeys_page(
    page: Page, *, status: int = 200, errors: FormErrors | None = None, values: dict[str, str] | None = None
) -> Response:
    assert page.viewer is not None
    listed = await passkey_enrol.list_passkeys(page.rt, user_id=page.viewer.user_id)
    rows = [
        {"id": p.id, "name": p.name, "created": when(p.created_at), "last_used": when(p.last_used_at)} for p in listed
    ]
    return page.render("ui/account_passkeys.html", status=status, errors=errors, values=values or {}, passkeys=rows)


@router.get(PASSKEYS)
async def passkeys(page: AccountPage) -> Response:
    if not passkeys_on(page):
        return _not_found(page)
    return await _passkeys_page(page)


def credential_of(form: Form) -> tuple[str, dict[str, Any]]:
    """The challenge id and the browser's credential passkey.js put in the form (400 otherwise)."""
    raw = form.get("credential") or ""
    if len(raw) > MAX_CREDENTIAL_CHARS:
        raise validation_failed(FieldError("credential", N_("The passkey's answer is too large.")))
    try:
        credential = json.loads(raw)
    except ValueError:
        credential = None
    challenge_id = form.get("challengeId")
    if not isinstance(credential, dict) or not challenge_id:
        raise validation_failed(FieldError("credential", N_("The passkey's answer could not be read. Try again.")))
    return challenge_id, credential


@router.post(PASSKEYS)
async def add_passkey(form: AccountForm) -> Response:
    page = form.page
    if not passkeys_on(page):
        return _not_found(page)
    try:
        challenge_id, credential = credential_of(form)
        name = _rename_body(form.get("name")) if form.get("name") else None
        await passkey_enrol.register(
            page.rt, principal=form.viewer, challenge_id=challenge_id, credential=credential, name=name
        )
    except AuthError as exc:
        if needs_reauth(exc):
            return to_reauth(page, PASSKEYS)
        errors = errors_of(exc, on_form=frozenset({"name"}))
        return await _passkeys_page(page, status=errors.status, errors=errors, values=kept(form.fields))
    return page.redirect(PASSKEYS, notice="passkey_added")


def _rename_body(value: str | None) -> str:
    """A passkey's name, by the API's limits (`RenameIn`)."""
    if value is None:
        raise validation_failed(FieldError("name", N_("Enter a name.")))
    body: RenameIn = checked(RenameIn, {"name": value})
    return body.name


async def _passkey(page: Page, passkey_id: str) -> Any:
    assert page.viewer is not None
    for passkey in await passkey_enrol.list_passkeys(page.rt, user_id=page.viewer.user_id):
        if passkey.id == passkey_id:
            return passkey
    return None


def _rename_page(
    page: Page,
    passkey: Any,
    *,
    status: int = 200,
    errors: FormErrors | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    return page.render(
        "ui/account_passkey_rename.html",
        status=status,
        errors=errors,
        values=values if values is not None else {"name": passkey.name},
        passkey_id=passkey.id,
        passkey_name=passkey.name,
    )


@router.get(PASSKEYS + "/{passkey_id}/rename")
async def rename_form(passkey_id: str, page: AccountPage) -> Response:
    passkey = await _passkey(page, passkey_id) if passkeys_on(page) else None
    if passkey is None:
        return _not_found(page)
    return _rename_page(page, passkey)


@router.post(PASSKEYS + "/{passkey_id}/rename")
async def rename(passkey_id: str, form: AccountForm) -> Response:
    page = form.page
    passkey = await _passkey(page, passkey_id) if passkeys_on(page) else None
    if passkey is None:
        return _not_found(page)
    try:
        name = _rename_body(form.get("name"))
        await passkey_enrol.rename(page.rt, user_id=form.viewer.user_id, passkey_id=passkey_id, name=name)
    except AuthError as exc:
        errors = errors_of(exc, on_form=frozenset({"name"}))
        return _rename_page(page, passkey, status=errors.status, errors=errors, values=kept(form.fields))
    return page.redirect(PASSKEYS, notice="passkey_renamed")


@router.post(PASSKEYS + "/{passkey_id}/delete")
async def remove_passkey(passkey_id: str, form: AccountForm) -> Response:
    page = form.page
    if not passkeys_on(page):
        return _not_found(page)
    try:
        await passkey_enrol.remove(
            page.rt, principal=form.viewer, passkey_id=passkey_id, reauth=Reauthentication(), ctx=page.ctx
        )
    except AuthError as exc:
        if needs_reauth(exc):
            return to_reauth(page, PASSKEYS)
        errors = errors_of(exc, on_form=frozenset())
        return await _passkeys_page(page, status=errors.status, errors=errors)
    return page.redirect(PASSKEYS, notice="passkey_removed")


# --- sessions -----------------------------------------------------------------------------------------------

SESSIONS = "/ui/account/sessions"

BROWSERS = (  # the first match wins: Edge and Opera also say Chrome, Chrome also says Safari
    ("Edg/", "Edge"),
    ("EdgA/", "Edge"),
    ("OPR/", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("Chromium/", "Chromium"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
    ("curl/", "curl"),
    ("python-httpx/", "httpx"),
    ("python-requests/", "Python requests"),
    ("okhttp/", "OkHttp"),
)
SYSTEMS = (  # the first match wins: Android says Linux, iOS says Mac OS X
    ("Windows", "Windows"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Android", "Android"),
    ("CrOS", "ChromeOS"),
    ("Macintosh", "macOS"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
)


def device_of(user_agent: str | None) -> tuple[str | None, str | None]:
    """(browser, system) read from a User-Agent, each None when not recognised: `Chrome on Linux`."""
    if not user_agent:
        return None, None
    found_browser = next((name for token, name in BROWSERS if token in user_agent), None)
    found_system = next((name for token, name in SYSTEMS if token in user_agent), None)
    return found_browser, found_system


async def _sessions_page(page: Page, *, status: int = 200, errors: FormErrors | None = None) -> Response:
    assert page.viewer is not None
    current = page.viewer.session_id
    live = await sessions.list_sessions(page.rt, user_id=page.viewer.user_id)
    live.sort(key=lambda s: (s.id != current, -s.last_used_at.timestamp()))
    rows = []
    for session in live:
        found_browser, found_system = device_of(session.user_agent)
        rows.append(
            {
                "id": session.id,
                "browser": found_browser,
                "system": found_system,
                "ip": session.ip_address,
                "last_used": when(session.last_used_at),
                "current": session.id == current,
            }
        )
    return page.render("ui/account_sessions.html", status=status, errors=errors, sessions=rows)


@router.get(SESSIONS)
async def sessions_list(page: AccountPage) -> Response:
    return await _sessions_page(page)


@router.post(SESSIONS + "/others")
async def sign_out_others(form: AccountForm) -> Response:
    page = form.page
    await sessions.revoke_other_sessions(page.rt, user_id=form.viewer.user_id, keep=form.viewer.session_id)
    return page.redirect(SESSIONS, notice="sessions_ended")


@router.post(SESSIONS + "/{session_id}/revoke")
async def sign_out_one(session_id: str, form: AccountForm) -> Response:
    page = form.page
    try:
        await sessions.revoke_own_session(page.rt, user_id=form.viewer.user_id, session_id=session_id)
    except AuthError as exc:
        errors = errors_of(exc, on_form=frozenset())
        return await _sessions_page(page, status=errors.status, errors=errors)
    if session_id == form.viewer.session_id:  # this browser's own: a sign-out
        page.sign_out()
        return page.redirect("/ui/login?notice=signed_out")
    return page.redirect(SESSIONS, notice="session_ended")


# --- linked providers --------------------------------------------------------------------------------------

LINKED = "/ui/account/linked"


async def _provider_origins(page: Page, names: list[str]) -> tuple[str, ...]:
    """Where each provider's sign-in page is: a link form's redirect ends there, and the
    browser checks the page's `form-action` along that redirect. Building the URL only reads
    (the discovery document is cached); a provider that cannot be reached is left out."""
    found: list[str] = []
    for name in names:
        provider = page.rt.providers.get(name)
        if provider is None:
            continue
        try:
            url = await provider.authorization_url(
                state="-", nonce="-", verifier="-" * 43, redirect_uri=oauth_flows.callback_url(page.rt, name)
            )
        except ProviderUnavailable:
            continue
        origin = origin_of(url)
        if origin is not None and origin not in found:
            found.append(origin)
    return tuple(found)


async def _linked_page(page: Page, *, status: int = 200, errors: FormErrors | None = None) -> Response:
    assert page.viewer is not None
    identities = await oauth_flows.linked_identities(page.rt, user_id=page.viewer.user_id)
    linked = {identity.provider for identity in identities}
    rows = [
        {"provider": identity.provider, "email": identity.email, "created": when(identity.created_at)}
        for identity in sorted(identities, key=lambda i: i.provider)
    ]
    available = [name for name in sorted(page.rt.providers) if name not in linked]
    page.form_targets = (*page.form_targets, *await _provider_origins(page, available))
    if errors is None and (code := page.query("error")) is not None and (message := problem_text(code)) is not None:
        errors = one_error(message)
    return page.render("ui/account_linked.html", status=status, errors=errors, identities=rows, available=available)


@router.get(LINKED)
async def linked(page: AccountPage) -> Response:
    return await _linked_page(page)


@router.post(LINKED + "/link")
async def link(form: AccountForm) -> Response:
    page = form.page
    provider = form.get("provider") or ""
    try:
        if provider not in page.rt.providers:
            raise validation_failed(FieldError("provider", N_("There is no such provider.")))
        await require_recent_sign_in(page.rt, form.viewer, Reauthentication(), ctx=page.ctx)
        started = await oauth_flows.begin(
            page.rt,
            provider=provider,
            redirect_to=None,  # a hosted flow comes back to this page
            browser_cookie=browser(page.request, page.settings),
            link_to=form.viewer.user_id,
            hosted=True,
        )
    except AuthError as exc:
        if needs_reauth(exc):
            return to_reauth(page, LINKED)
        errors = errors_of(exc, on_form=frozenset())
        return await _linked_page(page, status=errors.status, errors=errors)
    value = started.browser
    page.cookie_writes.append(lambda response: bind_browser(response, page.settings, value))
    return page.redirect(started.url)


@router.post(LINKED + "/{provider}/unlink")
async def unlink(provider: str, form: AccountForm) -> Response:
    page = form.page
    try:
        await oauth_flows.unlink(page.rt, user_id=form.viewer.user_id, provider=provider, ctx=page.ctx)
    except AuthError as exc:
        if needs_reauth(exc):
            return to_reauth(page, LINKED)
        errors = errors_of(exc, on_form=frozenset())
        return await _linked_page(page, status=errors.status, errors=errors)
    return page.redirect(LINKED, notice="unlinked")
