"""One-time codes by SMS or email."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from authgate.core.principal import Principal
from authgate.errors import AuthError, invalid_token
from authgate.http.abuse import code_identifier, guarded
from authgate.http.cookies import ACCESS_COOKIE, set_auth_cookies
from authgate.http.deps import Context, CurrentPrincipal, RuntimeDep, bearer_token, get_principal
from authgate.http.openapi import SIGN_IN, problems
from authgate.http.responses import login_out, user_out
from authgate.http.schemas.accounts import LoginOut
from authgate.http.schemas.links import MessageOut
from authgate.http.schemas.otp import FactorOut, OtpRemoveIn, OtpSendIn, OtpVerifyIn, VerifiedOut
from authgate.methods.code import enrol as code_enrol
from authgate.methods.code import flows as code_flows
from authgate.signin import gate
from authgate.signin.reauth import Reauthentication

router = APIRouter(tags=["one-time codes"])

ACCEPTED = "If the address can receive codes, a code is on its way."


async def optional_principal(request: Request) -> Principal | None:
    """The caller, when the request says who it is: a Bearer token must be valid (401
    otherwise); a stale cookie left in a browser just means anonymous."""
    if bearer_token(request) is not None:
        return await get_principal(request)
    if ACCESS_COOKIE in request.cookies:
        try:
            return await get_principal(request)
        except AuthError:
            return None
    return None


@router.post(
    "/otp/send",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=MessageOut,
    responses=problems(401),  # a Bearer token that is not valid
    dependencies=[guarded("otp_send", captcha=True)],
)
async def send_code(body: OtpSendIn, request: Request, rt: RuntimeDep) -> MessageOut:
    principal = await optional_principal(request)
    destination = code_flows.destination_of(body.channel, phone=body.phone, email=body.email)
    await code_flows.send_code(
        rt,
        channel=body.channel,
        purpose=body.purpose,
        destination=destination,
        caller=principal.user if principal else None,
    )
    return MessageOut(message=ACCEPTED)


@router.post(
    "/otp/verify",
    response_model=LoginOut | VerifiedOut | FactorOut,
    responses=SIGN_IN,
    dependencies=[guarded("otp_verify", identifier=code_identifier)],
)
async def verify_code(
    body: OtpVerifyIn, request: Request, response: Response, rt: RuntimeDep, ctx: Context
) -> LoginOut | VerifiedOut | FactorOut:
    code = body.required_code("code")
    if body.mfa_token is not None:
        # The second step of a sign-in: the same challenge /mfa/verify redeems, with this code.
        result = await gate.verify_challenge(rt, mfa_token=body.mfa_token, code=code, method=None, ctx=ctx)
    else:
        principal = await optional_principal(request)
        check = code_flows.CodeCheck(
            channel=body.channel,
            code=code,
            destination=code_flows.destination_of(body.channel, phone=body.phone, email=body.email),
        )
        if body.purpose == code_flows.VERIFY:
            user = await code_flows.verify_contact(rt, check, principal.user if principal else None, ctx)
            what = "Phone number" if body.channel == "sms" else "Email address"
            return VerifiedOut(message=f"{what} verified", user=user_out(rt, user))
        if body.purpose == code_flows.MFA:
            if principal is None:
                raise invalid_token("Sign in first: enrolling a second factor needs the account's access token.")
            channel = await code_enrol.enable_code_factor(
                rt,
                principal=principal,
                check=check,
                reauth=Reauthentication(body.current_password, body.reauthentication_code()),
                ctx=ctx,
            )
            return FactorOut(message="One-time-code second factor enabled", channel=channel)
        result = await code_flows.sign_in_with_code(rt, check, ctx)
    if body.options.set_cookie:
        set_auth_cookies(response, rt.settings, access_token=result.access_token, refresh_token=result.refresh_token)
    return login_out(rt, result, "Login successful")


@router.post("/otp/remove", response_model=MessageOut)
async def remove_factor(body: OtpRemoveIn, principal: CurrentPrincipal, rt: RuntimeDep, ctx: Context) -> MessageOut:
    code = body.required_code("verificationCode")
    await code_enrol.remove_code_factor(rt, user=principal.user, code=code, ctx=ctx)
    return MessageOut(message="One-time-code second factor removed")
