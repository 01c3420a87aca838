"""Social login: `GET /oauth/{provider}` and its callback, and linking providers to an account.

The flow is bound to the browser that started it by the `__Host-oauthBrowser` cookie
(HttpOnly, SameSite=Lax so that it comes back on the provider's redirect). After the state checks out,
an error goes back to the `redirectTo` of the flow as `?error=<code>` when there is one.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import RedirectResponse

from authgate.errors import AuthError, ErrorCode
from authgate.http.abuse import guarded
from authgate.http.cookies import (
    ACCESS_COOKIE,
    REFRESH_COOKIE,
    PendingStep,
    new_csrf_value,
    oauth_browser_cookie,
    set_auth_cookies,
    set_cookie,
    set_csrf_cookie,
    set_mfa_cookie,
)
from authgate.http.deps import Context, CurrentPrincipal, RuntimeDep
from authgate.http.openapi import pages
from authgate.http.pages import page, text, wants_html
from authgate.http.responses import json_response, login_out
from authgate.http.schemas.accounts import LoginOut
from authgate.http.schemas.oauth import AuthorizationOut, LinkedOut, LinkIn
from authgate.methods.oauth import flows as oauth_flows
from authgate.runtime.root import Runtime
from authgate.scope import RequestContext
from authgate.security.origins import origin_of
from authgate.security.redirects import MAX_LENGTH as MAX_REDIRECT_CHARS
from authgate.security.redirects import with_query
from authgate.services import refresh as refresh_service
from authgate.settings import Settings
from authgate.signin.reauth import Reauthentication, require_recent_sign_in
from authgate.signin.sessions import LoginResult

router = APIRouter(tags=["social login"])

NO_STORE = {"Cache-Control": "no-store"}


def browser(request: Request, settings: Settings) -> str | None:
    return request.cookies.get(oauth_browser_cookie(settings))


def bind_browser(response: Response, settings: Settings, value: str) -> None:
    set_cookie(
        response, settings, oauth_browser_cookie(settings), value, int(oauth_flows.STATE_LIFETIME.total_seconds())
    )


@router.get(
    "/oauth/{provider}",
    status_code=302,
    responses={302: {}, 400: {}, 404: {}, 502: {}},
    dependencies=[guarded("oauth")],
)
async def start(
    provider: str,
    request: Request,
    rt: RuntimeDep,
    redirect_to: Annotated[str | None, Query(alias="redirectTo", max_length=MAX_REDIRECT_CHARS)] = None,
    code_challenge: Annotated[str | None, Query(alias="codeChallenge", max_length=128)] = None,
    code_challenge_method: Annotated[str | None, Query(alias="codeChallengeMethod", max_length=16)] = None,
) -> Response:
    """With `codeChallenge` (a native app), the flow ends in a redirect to `redirectTo?code=…`
    instead of cookies; the app exchanges the code at `POST /token`."""
    started = await oauth_flows.begin(
        rt,
        provider=provider,
        redirect_to=redirect_to,
        browser_cookie=browser(request, rt.settings),
        code_challenge=code_challenge,
        code_challenge_method=code_challenge_method,
    )
    response = RedirectResponse(started.url, status_code=status.HTTP_302_FOUND, headers=NO_STORE)
    bind_browser(response, rt.settings, started.browser)
    return response


def _error_redirect(target: str, exc: AuthError) -> Response:
    """An error after the state checked out, back to the app: `?error=<code>`; a sign-in that
    needs its second factor also carries the `mfaToken` in the fragment (never sent to a server)."""
    fragment = None
    if exc.code == ErrorCode.MFA_REQUIRED:
        fragment = {"mfaToken": exc.extra["mfaToken"], "mfaMethods": ",".join(exc.extra["mfaMethods"])}
    url = with_query(target, {"error": exc.code.value, "error_description": exc.detail or exc.title}, fragment)
    return RedirectResponse(url, status_code=status.HTTP_302_FOUND, headers=NO_STORE)


@router.get(
    "/oauth/{provider}/callback",
    response_model=LoginOut | LinkedOut,
    responses={302: {}, **pages(400, 401, 403, 404), 409: {}, 502: {}},
)
async def callback(
    provider: str,
    request: Request,
    response: Response,
    rt: RuntimeDep,
    ctx: Context,
    code: Annotated[str | None, Query(max_length=2048)] = None,
    state: Annotated[str | None, Query(max_length=512)] = None,
    error: Annotated[str | None, Query(max_length=256)] = None,
) -> Response | LoginOut | LinkedOut:
    response.headers.update(NO_STORE)
    try:
        flow = await oauth_flows.take_state(
            rt, provider=provider, state=state, browser_cookie=browser(request, rt.settings)
        )
    except AuthError as exc:
        if wants_html(request):
            return page("This sign-in did not work", f"<p>{text(exc.detail or exc.title)}</p>", exc.status)
        raise
    if flow.hosted:
        return await _hosted_callback(rt, request, flow, code=code, error=error, ctx=ctx)
    try:
        outcome = await oauth_flows.finish(rt, flow, code=code, error=error, ctx=ctx)
    except AuthError as exc:
        if flow.redirect_to:
            return _error_redirect(flow.redirect_to, exc)
        raise
    if isinstance(outcome, oauth_flows.CodeIssued):
        assert flow.redirect_to is not None  # a flow with a challenge always has one
        url = with_query(flow.redirect_to, {"code": outcome.code})
        return RedirectResponse(url, status_code=status.HTTP_302_FOUND, headers=NO_STORE)
    if isinstance(outcome, oauth_flows.Linked):
        if flow.redirect_to:
            url = with_query(flow.redirect_to, {"linked": outcome.provider})
            return RedirectResponse(url, status_code=status.HTTP_302_FOUND, headers=NO_STORE)
        return LinkedOut(message="Provider linked", provider=outcome.provider)
    return _signed_in(rt, outcome, flow.redirect_to, response)


async def _hosted_callback(
    rt: Runtime,
    request: Request,
    flow: oauth_flows.Flow,
    *,
    code: str | None,
    error: str | None,
    ctx: RequestContext,
) -> Response:
    """The end of a flow the hosted pages started: signed in, the cookies (the pages' CSRF
    cookie renewed, as at every sign-in) and on to `return_to` (or the account page); a second
    factor due, the `authgate-mfa` cookie and the second-step page; an error, the sign-in page
    naming its code. Never a token in a URL. A session the browser held before ends, as at a
    sign-in on the sign-in page (`session.revoked`, `logout`)."""
    origin = origin_of(rt.settings.public_url) or ""
    try:
        outcome = await oauth_flows.finish(rt, flow, code=code, error=error, ctx=ctx)
    except AuthError as exc:
        if exc.code == ErrorCode.MFA_REQUIRED:
            step = PendingStep(exc.extra["mfaToken"], flow.redirect_to, tuple(exc.extra.get("mfaMethods", ())))
            response = RedirectResponse(f"{origin}/ui/mfa", status_code=status.HTTP_303_SEE_OTHER, headers=NO_STORE)
            set_mfa_cookie(response, rt.settings, step)
            return response
        back = "/ui/account/linked" if flow.link_to else "/ui/login"
        target = f"{origin}{back}?{urlencode({'error': exc.code.value})}"
        return RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER, headers=NO_STORE)
    if isinstance(outcome, oauth_flows.Linked):
        target = f"{origin}/ui/account/linked?notice=linked"
        return RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER, headers=NO_STORE)
    assert isinstance(outcome, LoginResult)  # a hosted flow never carries a code challenge
    await refresh_service.logout(
        rt, access_token=request.cookies.get(ACCESS_COOKIE), refresh_token=request.cookies.get(REFRESH_COOKIE)
    )
    target = flow.redirect_to or f"{origin}/ui/account"
    response = RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER, headers=NO_STORE)
    set_auth_cookies(response, rt.settings, access_token=outcome.access_token, refresh_token=outcome.refresh_token)
    set_csrf_cookie(response, rt.settings, new_csrf_value())
    return response


def _signed_in(rt: Runtime, result: LoginResult, redirect_to: str | None, response: Response) -> Response:
    target: Response = (
        RedirectResponse(redirect_to, status_code=status.HTTP_302_FOUND, headers=NO_STORE)
        if redirect_to
        else json_response(login_out(rt, result, "Login successful"))
    )
    target.headers.update(NO_STORE)
    set_auth_cookies(target, rt.settings, access_token=result.access_token, refresh_token=result.refresh_token)
    return target


@router.post("/oauth/link", response_model=AuthorizationOut, responses={400: {}, 401: {}, 404: {}, 502: {}})
async def start_link(
    body: LinkIn, request: Request, rt: RuntimeDep, principal: CurrentPrincipal, ctx: Context
) -> Response:
    """Linking adds a way into the account: it needs a recent sign-in, or the current
    password or a second factor's code in the body."""
    proof = Reauthentication(current_password=body.current_password, factor_code=body.typed_code())
    await require_recent_sign_in(rt, principal, proof, ctx=ctx)
    started = await oauth_flows.begin(
        rt,
        provider=body.provider,
        redirect_to=body.redirect_to,
        browser_cookie=browser(request, rt.settings),
        link_to=principal.user_id,
    )
    response = json_response(AuthorizationOut(authorization_url=started.url))
    response.headers.update(NO_STORE)
    bind_browser(response, rt.settings, started.browser)
    return response


@router.delete("/oauth/link/{provider}", status_code=status.HTTP_204_NO_CONTENT, responses={404: {}, 409: {}})
async def unlink(provider: str, rt: RuntimeDep, principal: CurrentPrincipal, ctx: Context) -> Response:
    await oauth_flows.unlink(rt, user_id=principal.user_id, provider=provider, ctx=ctx)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
