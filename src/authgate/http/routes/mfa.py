"""Multi-factor authentication: `/mfa/*` and the `/authenticator/*` aliases."""

from __future__ import annotations

from fastapi import APIRouter, Response

from authgate.errors import FieldError, validation_failed
from authgate.http.abuse import guarded
from authgate.http.cookies import set_auth_cookies
from authgate.http.deps import Context, CurrentPrincipal, RuntimeDep
from authgate.http.openapi import SIGN_IN, problems
from authgate.http.responses import login_out
from authgate.http.schemas.accounts import LoginOut
from authgate.http.schemas.mfa import (
    DisableIn,
    EnableIn,
    EnableOut,
    MessageOut,
    RecoveryCodesOut,
    RenewCodesIn,
    SetupIn,
    TotpSetupOut,
    VerifyIn,
)
from authgate.methods.passkey import signin as passkey_signin
from authgate.methods.passkey.factor import PASSKEY_METHOD
from authgate.methods.recovery import renew as recovery_renew
from authgate.methods.totp import enrol as totp_enrol
from authgate.signin import gate
from authgate.signin.reauth import Reauthentication

router = APIRouter(tags=["mfa"])
rare = APIRouter(tags=["mfa"])  # served after every other router (routes/__init__.py), as users.rare
RENEWED = "New recovery codes issued; the earlier ones no longer work. Keep these somewhere safe: each works once."
ALREADY = problems(409)  # an authenticator app is already on (setup, enable), or none is (disable)


@router.post("/mfa/setup", responses=ALREADY, response_model=TotpSetupOut)
@router.post("/authenticator/setup", responses=ALREADY, response_model=TotpSetupOut)
async def setup(principal: CurrentPrincipal, rt: RuntimeDep, ctx: Context, body: SetupIn | None = None) -> TotpSetupOut:
    reauth = Reauthentication(body.current_password, body.typed_code()) if body else Reauthentication()
    result = await totp_enrol.setup_totp(rt, principal=principal, reauth=reauth, ctx=ctx)
    return TotpSetupOut(secret=result.secret, otpauth_url=result.otpauth_url, qr_code_url=result.qr_code_url)


@router.post("/mfa/enable", responses=ALREADY, response_model=EnableOut)
@router.post("/authenticator/verify", responses=ALREADY, response_model=EnableOut)
async def enable(body: EnableIn, principal: CurrentPrincipal, rt: RuntimeDep, ctx: Context) -> EnableOut:
    codes = await totp_enrol.enable_totp(
        rt,
        principal=principal,
        secret=body.secret,
        code=body.required_code("verificationCode"),
        reauth=Reauthentication(body.current_password, body.reauthentication_code()),
        ctx=ctx,
    )
    return EnableOut(
        message="MFA enabled. Keep these recovery codes somewhere safe: each works once.",
        recovery_codes=codes,
    )


@router.post("/mfa/verify", response_model=LoginOut, responses=SIGN_IN, dependencies=[guarded("mfa")])
async def verify(body: VerifyIn, response: Response, rt: RuntimeDep, ctx: Context) -> LoginOut:
    """A second factor's `code`, or a passkey's `challengeId` (from `/mfa/passkey/options`) and `credential`."""
    if body.credential is None:
        code, assertion = body.required_code("code"), None
    else:
        code, assertion = None, _passkey_answer(body, rt)
    result = await gate.verify_challenge(
        rt, mfa_token=body.mfa_token, code=code, method=body.method, ctx=ctx, assertion=assertion
    )
    if body.options.set_cookie:
        set_auth_cookies(response, rt.settings, access_token=result.access_token, refresh_token=result.refresh_token)
    return login_out(rt, result, "Login successful")


def _passkey_answer(body: VerifyIn, rt: RuntimeDep) -> gate.Asserter:
    if body.typed_code() is not None:
        raise validation_failed(FieldError("credential", "Send a code or a passkey's credential, not both."))
    if body.challenge_id is None:
        raise validation_failed(FieldError("challengeId", "Send the challengeId of /mfa/passkey/options."))
    if body.method not in (None, PASSKEY_METHOD.name):
        raise validation_failed(FieldError("method", "A credential answers the passkey method."))
    return passkey_signin.second_step_assertion(rt, challenge_id=body.challenge_id, credential=body.credential or {})


@router.post("/mfa/disable", responses=ALREADY, response_model=MessageOut)
@router.post("/mfa/remove", responses=ALREADY, response_model=MessageOut)
async def disable(body: DisableIn, principal: CurrentPrincipal, rt: RuntimeDep, ctx: Context) -> MessageOut:
    code = body.required_code("verificationCode")
    await totp_enrol.disable_totp(rt, user=principal.user, code=code, ctx=ctx)
    return MessageOut(message="MFA disabled")


@rare.post(
    "/mfa/recovery-codes", responses=problems(401, 409), response_model=RecoveryCodesOut, dependencies=[guarded("mfa")]
)
async def renew_recovery_codes(
    body: RenewCodesIn, principal: CurrentPrincipal, rt: RuntimeDep, ctx: Context
) -> RecoveryCodesOut:
    """Ten new recovery codes in place of the earlier ones, given a current TOTP code or an
    unused recovery code (`code`, under any of its names)."""
    code = body.required_code("code")
    codes = await recovery_renew.renew_recovery_codes(rt, user=principal.user, code=code, ctx=ctx)
    return RecoveryCodesOut(
        message=RENEWED,
        recovery_codes=codes,
    )
