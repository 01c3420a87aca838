"""Register, login, and the caller's own account."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from authgate.errors import FieldError, validation_failed
from authgate.http.abuse import guarded, login_identifier
from authgate.http.cookies import set_auth_cookies
from authgate.http.deps import Context, CurrentPrincipal, RuntimeDep, get_principal, runtime_of
from authgate.http.openapi import SIGN_IN, problems
from authgate.http.responses import json_response, login_out, user_body, user_out
from authgate.http.routes.users import changes
from authgate.http.schemas.accounts import LoginIn, LoginOut, RegisteredOut, RegisterIn, UpdateUserIn
from authgate.http.schemas.oauth import CurrentUserOut, IdentityOut
from authgate.http.schemas.users import UserOut
from authgate.methods.oauth import flows as oauth_flows
from authgate.methods.password import signin as password_signin
from authgate.methods.password.factor import PasswordAttempt
from authgate.security.identifiers import normalize_email
from authgate.services import accounts, onboarding
from authgate.services.admin import users as users_admin
from authgate.signin.registration import Registration

router = APIRouter(tags=["accounts"])

VERIFY_FIRST = "User registered successfully. Verify your email address to sign in: we have sent you a link."


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    response_model=LoginOut | RegisteredOut,
    responses=problems(409),
    dependencies=[guarded("register", captcha=True)],
)
async def register(body: RegisterIn, response: Response, rt: RuntimeDep, ctx: Context) -> LoginOut | RegisteredOut:
    reg = Registration(
        email=body.email, password=body.password, name=body.name, username=body.username, phone=body.phone
    )
    opts = body.options
    welcome = onboarding.Welcome(
        verify_email=opts.verify_email,
        reset_email=opts.send_reset_email and body.password is None,
        welcome_email=opts.send_email,
        sms_code=opts.send_sms,
    )
    registered = await accounts.register(rt, reg, welcome, ctx)
    result = registered.result
    if result is None:
        user = user_out(rt, registered.user)
        return RegisteredOut(message=VERIFY_FIRST, user=user, name=user.name, email=user.email)
    if body.options.set_cookie:
        set_auth_cookies(response, rt.settings, access_token=result.access_token, refresh_token=result.refresh_token)
    return login_out(rt, result, "User registered successfully")


def password_login(body: LoginIn) -> PasswordAttempt:
    """Which identifier and secret the body carries: `email` must be an address; `username`
    or `name` (the name-and-PIN login) names a username; `pin` is that login's word for the password."""
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
    return PasswordAttempt(password=secret or "", email=email, username=username)


@router.post(
    "/login",
    response_model=LoginOut,
    responses=SIGN_IN,
    dependencies=[guarded("login", identifier=login_identifier, captcha=True)],
)
async def sign_in(body: LoginIn, response: Response, rt: RuntimeDep, ctx: Context) -> LoginOut:
    result = await password_signin.login(rt, password_login(body), body.typed_code(), ctx)
    if body.options.set_cookie:
        set_auth_cookies(response, rt.settings, access_token=result.access_token, refresh_token=result.refresh_token)
    return login_out(rt, result, "Login successful")


@router.get("/profile", response_model=UserOut, responses=problems(401, 403))
async def profile(request: Request) -> Response:
    # The hottest read: the caller is resolved here, not as a FastAPI dependency (resolving
    # one costs about a tenth of this request), and the user object's bytes are made once per
    # cached account (http/responses.user_body).
    principal = await get_principal(request)
    return Response(user_body(runtime_of(request), principal.user), media_type="application/json")


@router.get("/user", response_model=CurrentUserOut)
async def current_user(principal: CurrentPrincipal, rt: RuntimeDep) -> Response:
    """The user object, with how the account can sign in: a password, linked providers."""
    linked = await oauth_flows.linked_identities(rt, user_id=principal.user_id)
    user = user_out(rt, principal.user).model_dump()
    identities = [IdentityOut.of(identity) for identity in linked]
    has_password = principal.user.password_hash is not None
    return json_response(CurrentUserOut(**user, has_password=has_password, identities=identities))


@router.put("/user", response_model=UserOut, responses=problems(409))
async def update_current_user(body: UpdateUserIn, principal: CurrentPrincipal, rt: RuntimeDep, ctx: Context) -> UserOut:
    """The same as `PUT /user/{your id}`."""
    profile, admin = changes(body)
    user = await users_admin.update_user(
        rt, caller=principal, user_id=principal.user_id, change=profile, admin=admin, ctx=ctx
    )
    return user_out(rt, user)
