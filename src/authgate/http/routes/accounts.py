"""Register, login, and the caller's own account (seeds 001, 003, 004)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from authgate.errors import FieldError, validation_failed
from authgate.http.cookies import set_auth_cookies
from authgate.http.deps import Context, CurrentPrincipal, RuntimeDep
from authgate.http.responses import json_response, login_out
from authgate.http.schemas.accounts import LoginIn, LoginOut, RegisterIn, UpdateUserIn
from authgate.http.schemas.users import UserOut
from authgate.security.identifiers import normalize_email
from authgate.services import accounts, login, onboarding
from authgate.services.accounts import ProfileChange, Registration

router = APIRouter(tags=["accounts"])


@router.post("/register", status_code=status.HTTP_201_CREATED, response_model=LoginOut)
async def register(body: RegisterIn, response: Response, rt: RuntimeDep, ctx: Context) -> LoginOut:
    reg = Registration(
        email=body.email, password=body.password, name=body.name, username=body.username, phone=body.phone
    )
    result = await accounts.register(rt, reg, ctx)
    opts = body.options
    welcome = onboarding.Welcome(
        verify_email=opts.verify_email,
        reset_email=opts.send_reset_email and body.password is None,
        welcome_email=opts.send_email,
        sms_code=opts.send_sms,
    )
    await onboarding.after_register(rt, user=result.user, welcome=welcome)
    if body.options.set_cookie:
        set_auth_cookies(response, rt.settings, access_token=result.access_token, refresh_token=result.refresh_token)
    return login_out(result, "User registered successfully")


def password_login(body: LoginIn) -> login.PasswordLogin:
    """Which identifier and secret the body carries: `email` must be an address; `username`
    or seed 003's `name` names a username; `pin` is seed 003's word for the password."""
    errors: list[FieldError] = []
    secret = body.password if body.password is not None else body.pin
    if secret is None or secret == "":
        errors.append(FieldError("password", "This field is required."))
    email = username = None
    if body.email is not None:
        try:
            email = normalize_email(body.email)
        except ValueError as exc:
            errors.append(FieldError("email", str(exc)))
    else:
        username = body.username if body.username is not None else body.name
        if not username:
            errors.append(FieldError("email", "An email address or a username is required."))
    if errors:
        raise validation_failed(*errors)
    return login.PasswordLogin(password=secret or "", email=email, username=username, mfa_code=body.mfa_code)


@router.post("/login", response_model=LoginOut)
async def sign_in(body: LoginIn, response: Response, rt: RuntimeDep, ctx: Context) -> LoginOut:
    result = await login.login_with_password(rt, password_login(body), ctx)
    if body.options.set_cookie:
        set_auth_cookies(response, rt.settings, access_token=result.access_token, refresh_token=result.refresh_token)
    return login_out(result, "Login successful")


@router.get("/profile", response_model=UserOut)
async def profile(principal: CurrentPrincipal) -> Response:
    return json_response(UserOut.of(principal.user))


@router.get("/user", response_model=UserOut)
async def current_user(principal: CurrentPrincipal) -> Response:
    return json_response(UserOut.of(principal.user))


@router.put("/user", response_model=UserOut)
async def update_current_user(body: UpdateUserIn, principal: CurrentPrincipal, rt: RuntimeDep) -> UserOut:
    change = ProfileChange(
        name=body.name,
        username=body.username,
        phone=body.phone,
        password=body.password,
        current_password=body.current_password,
    )
    user = await accounts.update_profile(rt, user=principal.user, session_id=principal.session_id, change=change)
    return UserOut.of(user)
