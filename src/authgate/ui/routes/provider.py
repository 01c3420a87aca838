"""The OpenID provider's browser endpoints, at the issuer's root: `/oauth2/authorize` (and its
continuation after a sign-in), `/oauth2/consent` and `/oauth2/logout`, with their hosted pages
(consent, logout confirmation, errors) and the account page of connected apps.

At the authorization endpoint the browser's session is its access cookie, or the current
refresh token read without rotating it: an app's navigation never rotates what the browser
holds. A request that must wait for a sign-in or a consent is kept server-side and bound to
the browser by the `authgate-oauth` cookie, so another browser cannot finish it.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from authgate.errors import AuthError
from authgate.http.cookies import set_cookie
from authgate.http.forms import UnreadableForm, form_pairs, is_form
from authgate.http.problems import problem_document
from authgate.observability.logging import get_logger
from authgate.security.oauth2 import redirect_origin
from authgate.services.oauth2 import authorize, consents
from authgate.services.oauth2 import clients as client_service
from authgate.services.oauth2 import logout as rp_logout
from authgate.services.oauth2.authorize import AskConsent, Checked, Expired, Refused, SignIn, ToApp
from authgate.settings import Settings
from authgate.ui.app_request import CONTINUE, binding_cookie, browser_binding
from authgate.ui.deps import AccountForm, AccountPage, PageDep, Posted, passes_csrf, refused, unreadable
from authgate.ui.forms import BadForm, FormErrors, errors_of, one_error, read_form
from authgate.ui.messages import N_
from authgate.ui.page import Page, open_page

router = APIRouter(include_in_schema=False)
account = APIRouter(include_in_schema=False)
log = get_logger("authgate.oauth2")
BINDING_SECONDS = 1800
FORM_PATHS = ("/oauth2/authorize", "/oauth2/consent", "/oauth2/logout")
MAX_PARAMETERS = 100
UNKNOWN_REQUEST = N_("This sign-in request cannot be used. Go back to the app and try again.")
TOO_LONG = N_("This sign-in took too long. Go back to the app and try again.")
BAD_APP = N_(
    "The app's sign-in request is not valid: it names an unknown app or a return address it has not registered."
)
BAD_LOGOUT = N_(
    "This sign-out request is not valid: it names an unknown app or a return address it has not registered."
)
SCOPE_WORDS = {
    "openid": N_("Who you are"),
    "profile": N_("Your name and username"),
    "email": N_("Your email address"),
    "phone": N_("Your phone number"),
    "offline_access": N_("Access while you are away"),
}


def _bind(page: Page, value: str) -> None:
    """Set (or renew) the browser binding of pending requests."""
    settings = page.settings
    page.cookie_writes.append(
        lambda response: set_cookie(response, settings, binding_cookie(settings), value, BINDING_SECONDS)
    )


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def _error_page(page: Page, message: str, detail: str, *, status: int = 400) -> Response:
    if not _wants_html(page.request):
        body = problem_document(status, "invalid_request", "Invalid request", detail)
        body["error"] = "invalid_request"
        body["error_description"] = detail
        return page.finish(JSONResponse(body, status_code=status, media_type="application/problem+json"))
    return page.render("ui/error.html", status=status, errors=one_error(message, status=status))


def _to_app(page: Page, outcome: ToApp, *, posted: bool = False) -> Response:
    page.rt.metrics.oauth2_authorizations.labels(outcome.outcome).inc()
    response = Response(status_code=303 if posted else 302, headers={"Location": outcome.url})
    response = page.finish(response)
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _login_location(page: Page, request: authorize.Request, request_id: str, *, fresh: bool) -> str:
    settings = page.settings
    query = {"return_to": f"{CONTINUE}?{urlencode({'request': request_id})}", "client_id": request.client_id}
    if request.login_hint:
        query["login_hint"] = request.login_hint
    if request.ui_locales:
        query["ui_locales"] = request.ui_locales
    if fresh:
        query["prompt"] = "login"
    base = settings.login_url or "/ui/login"
    return base + ("&" if "?" in base else "?") + urlencode(query)


def _can_sign_in(settings: Settings) -> bool:
    return settings.login_url is not None or settings.ui


async def _read_page(request: Request) -> Page:
    """The page, with the session read as the authorization endpoint reads it (never rotated)."""
    return await open_page(request, rotate=False)


async def _decided(page: Page, checked: Checked, request_id: str | None) -> Response:
    request = checked.request
    decision = await authorize.decide(page.rt, checked, page.viewer, can_sign_in=_can_sign_in(page.settings))
    binding = browser_binding(page)
    if isinstance(decision, ToApp):
        # A pending request is spent by the one answer that goes to the app: of two tabs
        # continuing it at once, the other gets the error page (its code is never sent).
        if request_id is not None and (
            binding is None or not await authorize.spend_pending(page.rt, request_id, binding=binding)
        ):
            return _error_page(page, UNKNOWN_REQUEST, "The sign-in request was used already.")
        return _to_app(page, decision, posted=request.posted and request_id is None)
    if binding is None:
        binding = authorize.new_binding()
    _bind(page, binding)
    if request_id is None:
        sign_in = isinstance(decision, SignIn)
        request_id = await authorize.keep_pending(page.rt, request, binding=binding, sign_in=sign_in)
    if isinstance(decision, SignIn):
        page.rt.metrics.oauth2_authorizations.labels("login").inc()
        status = 303 if page.request.method == "POST" else 302
        location = _login_location(page, request, request_id, fresh=decision.fresh)
        return page.finish(Response(status_code=status, headers={"Location": location}))
    assert isinstance(decision, AskConsent)
    page.rt.metrics.oauth2_authorizations.labels("consent").inc()
    status = 303 if page.request.method == "POST" else 302
    return page.finish(
        Response(status_code=status, headers={"Location": f"/oauth2/consent?{urlencode({'request': request_id})}"})
    )


async def _authorize(request: Request, params: list[tuple[str, str]], *, posted: bool) -> Response:
    page = await _read_page(request)
    try:
        checked = await authorize.check(page.rt, params, posted=posted)
    except Refused as exc:
        page.rt.metrics.oauth2_authorizations.labels("refused").inc()
        log.info("oauth2_authorize_refused", reason=exc.detail)
        return _error_page(page, BAD_APP, exc.detail)
    if isinstance(checked, ToApp):
        return _to_app(page, checked, posted=posted)
    return await _decided(page, checked, None)


@router.get("/oauth2/authorize")
async def authorize_get(request: Request) -> Response:
    return await _authorize(request, parse_qsl(request.url.query, keep_blank_values=True), posted=False)


@router.post("/oauth2/authorize")
async def authorize_post(request: Request) -> Response:
    try:
        params = form_pairs(await request.body(), max_fields=MAX_PARAMETERS) if is_form(request) else []
    except UnreadableForm:
        params = []  # refused by the checks as an empty request is: no client, no redirect
    return await _authorize(request, params, posted=True)


async def _pending(page: Page, request_id: str, *, unknown_status: int = 400) -> Checked | Response:
    """The browser's live pending request; else the page that says why (an unknown one is a
    400 where it continues a sign-in, a 404 on the consent page)."""
    found = await authorize.pending(page.rt, request_id, binding=browser_binding(page))
    if isinstance(found, authorize.Request):
        page.speak_for(found.ui_locales)
    if isinstance(found, Expired):
        return _error_page(page, TOO_LONG, "The sign-in request expired.")
    if found is None:
        detail = "The sign-in request is unknown, used, or another browser's."
        return _error_page(page, UNKNOWN_REQUEST, detail, status=unknown_status)
    client = await client_service.live_client(page.rt, found.client_id)
    if client is None:
        return _error_page(page, BAD_APP, "The app is no longer allowed.")
    return Checked(client, found)


@router.get(CONTINUE)
async def authorize_continue(request: Request) -> Response:
    page = await open_page(request)
    request_id = page.query("request") or ""
    found = await _pending(page, request_id)
    if isinstance(found, Response):
        return found
    return await _decided(page, found, request_id)


# --- consent ---------------------------------------------------------------------------------------


def _scope_lines(scopes: list[str]) -> list[tuple[str, str | None]]:
    return [(scope, SCOPE_WORDS.get(scope)) for scope in scopes]


@router.get("/oauth2/consent")
async def consent_page(page: PageDep) -> Response:
    request_id = page.query("request") or ""
    found = await _pending(page, request_id, unknown_status=404)
    if isinstance(found, Response):
        return found
    client, request = found.client, found.request
    if page.viewer is None:
        return page.redirect(_login_location(page, request, request_id, fresh=False))
    asked = await consents.to_ask(
        page.rt, user_id=page.viewer.user_id, client_id=request.client_id, scopes=request.scopes
    )
    page.form_targets = (redirect_origin(request.redirect_uri),)
    return page.render(
        "ui/consent.html",
        client_name=client.name,
        scopes=_scope_lines(asked),
        request_id=request_id,
    )


@router.post("/oauth2/consent")
async def consent(form: Posted) -> Response:
    page = form.page
    request_id = form.get("request") or ""
    found = await _pending(page, request_id)
    if isinstance(found, Response):
        return found
    request = found.request
    binding = browser_binding(page)
    if page.viewer is None or binding is None:
        return page.redirect(_login_location(page, request, request_id, fresh=False))
    decision = form.get("decision")
    if decision not in ("allow", "deny"):
        raise refused(page)
    outcome = await authorize.consented(
        page.rt, request_id, request, page.viewer, binding=binding, allow=decision == "allow"
    )
    if outcome is None:
        return _error_page(page, UNKNOWN_REQUEST, "The sign-in request was used already.")
    return _to_app(page, outcome, posted=True)


# --- logout ----------------------------------------------------------------------------------------


async def _logout(page: Page, params: dict[str, str], *, confirmed: bool) -> Response:
    try:
        checked = await rp_logout.check(page.rt, params)
    except Refused as exc:
        return _error_page(page, BAD_LOGOUT, exc.detail)
    viewer = page.viewer
    if checked.hint_subject is not None or confirmed:
        session_id = checked.hint_session if not confirmed else (viewer.session_id if viewer else None)
        user_id = checked.hint_subject if not confirmed else (viewer.user_id if viewer else None)
        if session_id is not None and user_id is not None:
            await rp_logout.end_session(page.rt, session_id=session_id, user_id=user_id)
            if viewer is not None and viewer.session_id == session_id:
                page.sign_out()
        after = checked.after()
        if after is not None:
            response = Response(status_code=303 if confirmed else 302, headers={"Location": after})
            return page.finish(response)
        if not _wants_html(page.request):
            return page.finish(JSONResponse({"message": "Logout successful"}))
        return page.render("ui/signed-out.html")
    if not _wants_html(page.request):
        return _error_page(page, BAD_LOGOUT, "Without an id_token_hint, a browser must confirm the sign-out.")
    if checked.post_logout_redirect_uri is not None:
        page.form_targets = (redirect_origin(checked.post_logout_redirect_uri),)
    return page.render(
        "ui/logout-confirm.html",
        hidden=sorted(checked.fields().items()),
        client_name=checked.client.name if checked.client is not None else None,
    )


@router.get("/oauth2/logout")
async def logout_get(page: PageDep) -> Response:
    params = {name: value for name, value in page.request.query_params.items()}
    return await _logout(page, params, confirmed=False)


@router.post("/oauth2/logout")
async def logout_post(request: Request) -> Response:
    page = await open_page(request)
    try:
        fields = await read_form(request)
    except BadForm as exc:
        raise unreadable(page, exc) from None
    if "csrf_token" not in fields and "id_token_hint" in fields:
        return await _logout(page, fields, confirmed=False)  # an app's POST with its hint
    if not passes_csrf(page, fields):
        raise refused(page)
    return await _logout(page, fields, confirmed=True)


# --- connected apps ------------------------------------------------------------------------------------


async def _apps_page(page: Page, *, status: int = 200, errors: FormErrors | None = None) -> Response:
    assert page.viewer is not None
    held = await consents.of_user(page.rt, user_id=page.viewer.user_id)
    shown = [
        {
            "client_id": c.client_id,
            "client_name": c.client_name,
            "scopes": _scope_lines(c.scopes),
            "granted_at": c.granted_at.strftime("%Y-%m-%d"),
        }
        for c in held
    ]
    return page.render("ui/account_apps.html", status=status, errors=errors, apps=shown)


@account.get("/ui/account/apps")
async def apps(page: AccountPage) -> Response:
    return await _apps_page(page)


@account.post("/ui/account/apps/{client_id}/revoke")
async def revoke_app(client_id: str, form: AccountForm) -> Response:
    """As `DELETE /oauth2/consents/{clientId}`: an app not allowed anything (never, or revoked
    meanwhile) is refused with its status, on the list as it is now."""
    try:
        await consents.revoke(form.page.rt, user_id=form.viewer.user_id, client_id=client_id)
    except AuthError as exc:
        errors = errors_of(exc, on_form=frozenset())
        return await _apps_page(form.page, status=errors.status, errors=errors)
    return form.page.redirect("/ui/account/apps", notice="app_revoked")
