"""Refresh and logout: the refresh token comes from the `refreshToken` cookie or the body; the
answer renews (or deletes) both cookies. And `POST /token`, where a native app exchanges the
code its sign-in ended with (signin/code_exchange.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from authgate.errors import AuthError, invalid_token
from authgate.http.abuse import guarded
from authgate.http.cookies import ACCESS_COOKIE, REFRESH_COOKIE, clear_auth_cookies, set_auth_cookies
from authgate.http.csrf import check_cookie_action
from authgate.http.deps import Context, RuntimeDep, bearer_token, runtime_of
from authgate.http.openapi import SIGN_IN, problems
from authgate.http.problems import from_auth_error
from authgate.http.responses import json_response, login_out
from authgate.http.schemas.accounts import LoginOut
from authgate.http.schemas.sessions import MessageOut, RefreshIn, TokenIn
from authgate.services import refresh as refresh_service
from authgate.signin import code_exchange

router = APIRouter(tags=["tokens"])

LOGOUT = "End the current session and delete the cookies"
REFRESH = "Exchange a refresh token for a new pair"
COOKIE_CHECK = problems(403)  # a cookie request from an untrusted origin
REFRESHED = "Access token refreshed successfully"
LOGGED_OUT = "Logout successful"


async def _refresh(request: Request, body: RefreshIn | None) -> Response:
    rt = runtime_of(request)  # a hot path: not as a dependency
    body_token = body.refresh_token if body else None
    token = body_token
    from_cookie = False
    if not token:
        token = request.cookies.get(REFRESH_COOKIE)
        from_cookie = bool(token)
        if from_cookie:
            # Any method: SameSite=Lax cookies ride along on cross-site GET navigations too.
            check_cookie_action(request, rt.settings)
    if not token:
        raise invalid_token("A refresh token is required (the refreshToken cookie or body field).")
    try:
        result = await refresh_service.refresh(rt, token=token)
    except AuthError as exc:
        failed = from_auth_error(exc)
        if from_cookie:
            clear_auth_cookies(failed, rt.settings)  # a dead cookie is no use to the browser
        return failed
    answer = json_response(login_out(rt, result, REFRESHED))
    if body is None or body.options.set_cookie:
        set_auth_cookies(answer, rt.settings, access_token=result.access_token, refresh_token=result.refresh_token)
    return answer


@router.post("/refresh", response_model=LoginOut, responses=SIGN_IN, summary=REFRESH)
@router.post("/token/refresh", response_model=LoginOut, responses=SIGN_IN, summary=REFRESH)
async def refresh(request: Request, body: RefreshIn | None = None) -> Response:
    return await _refresh(request, body)


@router.get(
    "/token/refresh",
    response_model=LoginOut,
    responses=SIGN_IN,
    summary="Exchange the refreshToken cookie for a new pair",
)
async def refresh_by_get(request: Request) -> Response:
    return await _refresh(request, None)


@router.post(
    "/token",
    response_model=LoginOut,
    responses={**SIGN_IN, **problems(400)},
    summary="Exchange a native app's code and verifier for the login response",
    dependencies=[guarded("link")],
)
async def exchange_code(body: TokenIn, rt: RuntimeDep, ctx: Context) -> Response:
    result = await code_exchange.exchange(rt, code=body.code, verifier=body.code_verifier, ctx=ctx)
    answer = json_response(login_out(rt, result, "Login successful"))
    if body.options.set_cookie:
        set_auth_cookies(answer, rt.settings, access_token=result.access_token, refresh_token=result.refresh_token)
    return answer


async def _logout(request: Request, response: Response, rt: RuntimeDep, body_token: str | None) -> MessageOut:
    access = bearer_token(request)
    cookies = request.cookies
    refresh_token = body_token or cookies.get(REFRESH_COOKIE)
    if access is None:
        access = cookies.get(ACCESS_COOKIE)
        if access or (refresh_token and not body_token):
            check_cookie_action(request, rt.settings)
    await refresh_service.logout(rt, access_token=access, refresh_token=refresh_token)
    clear_auth_cookies(response, rt.settings)
    return MessageOut(message=LOGGED_OUT)


@router.post(
    "/logout",
    response_model=MessageOut,
    responses=COOKIE_CHECK,
    summary=LOGOUT,
)
@router.post(
    "/token/revoke",
    response_model=MessageOut,
    responses=COOKIE_CHECK,
    summary=LOGOUT,
)
async def logout(request: Request, response: Response, rt: RuntimeDep, body: RefreshIn | None = None) -> MessageOut:
    return await _logout(request, response, rt, body.refresh_token if body else None)


@router.get(
    "/token/revoke",
    response_model=MessageOut,
    responses=COOKIE_CHECK,
    summary=LOGOUT,
)
async def logout_by_get(request: Request, response: Response, rt: RuntimeDep) -> MessageOut:
    return await _logout(request, response, rt, None)
