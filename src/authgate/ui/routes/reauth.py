"""`/ui/reauth`: prove it is you again, for the sensitive changes and the admin console. The
proof (the current password, a current second factor's code, or a passkey) is recorded on the
session (`user.reauthenticated`) and counts for the API's checks too; an account with none of
these signs in again by a magic link."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Response

from authgate.errors import AuthError, FieldError, validation_failed
from authgate.http.abuse import limit
from authgate.methods import second_factors
from authgate.methods.code import flows as code_flows
from authgate.methods.passkey import enrol as passkey_enrol
from authgate.methods.passkey import reauth as passkey_reauth
from authgate.signin import reauth
from authgate.ui.deps import AccountForm, AccountPage
from authgate.ui.forms import errors_of
from authgate.ui.messages import N_
from authgate.ui.page import Page
from authgate.ui.routes.signin import HOME, credential_of, passkeys_on

router = APIRouter(include_in_schema=False)
FIELDS = frozenset({"currentPassword", "code", "credential"})


async def _ways(page: Page) -> dict[str, bool]:
    """What this account can prove itself with; `sent_code`: its second factor is a code we send."""
    assert page.viewer is not None
    user = page.viewer.user
    passkeys = passkeys_on(page) and bool(await passkey_enrol.list_passkeys(page.rt, user_id=user.id))
    factors = await second_factors.factor_state(page.rt, user_id=user.id)
    return {
        "password": user.password_hash is not None,
        "code": user.mfa_enabled,
        "authenticator": factors.authenticator,
        "sent_code": factors.code_channel is not None,
        "passkey": passkeys,
    }


async def _form(page: Page, *, status: int = 200, errors: Any = None) -> Response:
    target = page.return_to()
    ways = await _ways(page)
    link = "/ui/magic-link?" + urlencode({"return_to": target or HOME})
    return page.render("ui/reauth.html", status=status, errors=errors, return_to=target, ways=ways, magic_link=link)


async def _send_code(page: Page, target: str | None) -> Response:
    """Send a code to the account's one-time-code factor (the page's "Send a code"), then show
    the form again, with `return_to` kept."""
    assert page.viewer is not None
    channel = await code_flows.send_to_factor(page.rt, user=page.viewer.user)
    back = "/ui/reauth" + (f"?{urlencode({'return_to': target})}" if target else "")
    return page.redirect(back, notice="code_sent" if channel is not None else None)


@router.get("/ui/reauth")
async def reauth_form(page: AccountPage) -> Response:
    return await _form(page)


@router.post("/ui/reauth")
async def reauthenticate(form: AccountForm) -> Response:
    page = form.page
    principal = form.viewer
    target = page.return_to(form.get("return_to"))
    try:
        if form.get("send") is not None:
            await limit(page.rt, page.ctx, "mfa", form.fields)
            return await _send_code(page, target)
        if form.get("credential") is not None:
            await limit(page.rt, page.ctx, "passkey", form.fields)
            credential = credential_of(form)
            await passkey_reauth.reauth_verify(page.rt, principal, form.get("challengeId") or "", credential, page.ctx)
        elif (password := form.get("currentPassword")) is not None:
            await limit(page.rt, page.ctx, "login", form.fields)
            await reauth.reauthenticate_with_password(page.rt, principal, password=password, ctx=page.ctx)
        elif (code := form.get("code")) is not None:
            await limit(page.rt, page.ctx, "mfa", form.fields)
            await reauth.reauthenticate_with_code(page.rt, principal, code=code, ctx=page.ctx)
        else:
            field = "currentPassword" if principal.user.password_hash is not None else "code"
            raise validation_failed(FieldError(field, N_("Enter your password or a code.")))
    except AuthError as exc:
        errors = errors_of(exc, on_form=FIELDS, secret_field="currentPassword")  # noqa: S106
        return await _form(page, status=errors.status, errors=errors)
    return page.redirect(target or HOME)
