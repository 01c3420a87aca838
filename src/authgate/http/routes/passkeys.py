"""Passkeys (WebAuthn, docs/passkeys.md): adding and managing them, signing in with one, and an
administrator's view of a user's passkeys. The second step's passkey options are here too;
its answer goes to `/mfa/verify` like every second factor's."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response, status

from authgate.http.abuse import guarded
from authgate.http.cookies import set_auth_cookies
from authgate.http.deps import Context, CurrentPrincipal, RuntimeDep
from authgate.http.openapi import SIGN_IN, problem_statuses, problems
from authgate.http.responses import json_response, login_out
from authgate.http.schemas.accounts import LoginOut
from authgate.http.schemas.passkeys import (
    LoginVerifyIn,
    MfaOptionsIn,
    OptionsOut,
    PasskeyOut,
    ReauthIn,
    RegisterVerifyIn,
    RenameIn,
)
from authgate.methods.passkey import enrol, signin
from authgate.services.admin import users as users_admin
from authgate.signin.reauth import Reauthentication


@problem_statuses(404)
async def passkeys_on(rt: RuntimeDep) -> None:
    """Every passkey endpoint answers 404 while passkeys are off (the public URL is an IP
    address and no RP ID is set), before anything else is asked of the request."""
    signin.relying_party(rt)


router = APIRouter(tags=["passkeys"])
ON = Depends(passkeys_on)


def _reauth(body: ReauthIn | None) -> Reauthentication:
    return Reauthentication(body.current_password, body.typed_code()) if body else Reauthentication()


@router.post("/passkeys/register/options", response_model=OptionsOut, responses=problems(401), dependencies=[ON])
async def register_options(
    principal: CurrentPrincipal, rt: RuntimeDep, ctx: Context, body: ReauthIn | None = None
) -> OptionsOut:
    """Options for `navigator.credentials.create()`. Adding a passkey needs a recent sign-in, or
    `currentPassword` / `mfaCode` (`reauthentication_required`); on an account with a second
    factor, a session that passed it or `mfaCode`."""
    return OptionsOut.of(await enrol.register_options(rt, principal=principal, reauth=_reauth(body), ctx=ctx))


@router.post(
    "/passkeys/register/verify",
    status_code=status.HTTP_201_CREATED,
    response_model=PasskeyOut,
    responses=problems(409),
    dependencies=[ON],
)
async def register_verify(body: RegisterVerifyIn, principal: CurrentPrincipal, rt: RuntimeDep) -> Response:
    """Store the passkey the browser created. A check it fails is 400 `validation_failed` on
    `credential`; a spent or foreign challenge 400 `invalid_token`; 409 `passkey_exists` or
    `passkey_limit` (20)."""
    passkey = await enrol.register(
        rt, principal=principal, challenge_id=body.challenge_id, credential=body.credential, name=body.name
    )
    return json_response(PasskeyOut.of(passkey), status.HTTP_201_CREATED)


@router.get("/passkeys", response_model=list[PasskeyOut], dependencies=[ON])
async def list_passkeys(principal: CurrentPrincipal, rt: RuntimeDep) -> list[PasskeyOut]:
    """The caller's passkeys, oldest first."""
    return [PasskeyOut.of(p) for p in await enrol.list_passkeys(rt, user_id=principal.user_id)]


@router.put("/passkeys/{passkey_id}", response_model=PasskeyOut, responses=problems(404), dependencies=[ON])
async def rename_passkey(passkey_id: str, body: RenameIn, principal: CurrentPrincipal, rt: RuntimeDep) -> PasskeyOut:
    return PasskeyOut.of(await enrol.rename(rt, user_id=principal.user_id, passkey_id=passkey_id, name=body.name))


@router.delete(
    "/passkeys/{passkey_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problems(404, 409),
    dependencies=[ON],
)
async def delete_passkey(
    passkey_id: str, principal: CurrentPrincipal, rt: RuntimeDep, ctx: Context, body: ReauthIn | None = None
) -> Response:
    """Needs a recent sign-in, or `currentPassword` / `mfaCode`. The account's last way in (no
    password, no linked provider, no other passkey) is kept: 409 `last_sign_in_method`."""
    await enrol.remove(rt, principal=principal, passkey_id=passkey_id, reauth=_reauth(body), ctx=ctx)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/passkeys/login/options", response_model=OptionsOut, dependencies=[ON, guarded("passkey")])
async def login_options(rt: RuntimeDep) -> OptionsOut:
    """Options for `navigator.credentials.get()` with a discoverable passkey: no identifier, an
    empty `allowCredentials` (conditional UI works: `mediation: "conditional"`)."""
    return OptionsOut.of(await signin.login_options(rt))


@router.post(
    "/passkeys/login/verify",
    response_model=LoginOut,
    responses=SIGN_IN,
    dependencies=[ON, guarded("passkey")],
)
async def login_verify(body: LoginVerifyIn, response: Response, rt: RuntimeDep, ctx: Context) -> LoginOut:
    """The login response, as for a password. Every refused assertion is 401
    `invalid_credentials`; a spent or unknown challenge 400 `invalid_token`."""
    result = await signin.login(rt, challenge_id=body.challenge_id, credential=body.credential, ctx=ctx)
    if body.options.set_cookie:
        set_auth_cookies(response, rt.settings, access_token=result.access_token, refresh_token=result.refresh_token)
    return login_out(rt, result, "Login successful")


@router.post(
    "/mfa/passkey/options", response_model=OptionsOut, responses=problems(401), dependencies=[ON, guarded("mfa")]
)
async def mfa_options(body: MfaOptionsIn, rt: RuntimeDep) -> OptionsOut:
    """Options to finish a second step with one of the account's passkeys; the answer goes to
    `/mfa/verify` with `challengeId` and `credential`. Spends no try of the `mfaToken`."""
    return OptionsOut.of(await signin.mfa_options(rt, mfa_token=body.mfa_token))


@router.get(
    "/user/{user_id}/passkeys", response_model=list[PasskeyOut], responses=problems(403, 404), dependencies=[ON]
)
async def user_passkeys(user_id: str, caller: CurrentPrincipal, rt: RuntimeDep) -> list[PasskeyOut]:
    """A user's passkeys (`users:read`)."""
    return [PasskeyOut.of(p) for p in await users_admin.passkeys_of(rt, caller=caller, user_id=user_id)]


@router.delete(
    "/user/{user_id}/passkeys/{passkey_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problems(403, 404),
    dependencies=[ON],
)
async def remove_user_passkey(user_id: str, passkey_id: str, caller: CurrentPrincipal, rt: RuntimeDep) -> Response:
    """Remove a user's passkey, the last one too (a lost device; `users:write`)."""
    await users_admin.remove_passkey(rt, caller=caller, user_id=user_id, passkey_id=passkey_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
