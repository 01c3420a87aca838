"""The admin console, `/ui/admin…` (served when AUTHGATE_UI_ADMIN=on): users, the audit trail,
webhooks (read only).

Who may come in: a session whose role holds one of `ADMIN_CAPS` (else the 403 page; anonymous
browsers are sent to sign in), with a recent proof of identity (else `/ui/reauth` and back).
Each page and action then needs the capability of its API twin, and each action is the one
service call its twin makes, so the same "no one acts above their own rights" checks and the
same audit entries apply (the actor is the admin: the request scope names them). An action
that succeeds answers 303 back to the user's page with a notice; a refusal of rights (403) or
of a missing account (404) is the error page; any other refusal shows the page again with the
API's status and its message.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote, urlencode, urlsplit

from fastapi import APIRouter, Depends, Response

from authgate.errors import AuthError, ErrorCode, FieldError, validation_failed
from authgate.methods.oauth import flows as oauth_flows
from authgate.security.capabilities import grants, has_caps
from authgate.security.identifiers import normalize_email
from authgate.services import audit, webhooks
from authgate.services.accounts import ProfileChange
from authgate.services.admin import roles as roles_admin
from authgate.services.admin import users as users_admin
from authgate.signin import reauth
from authgate.signin.reauth import Reauthentication, require_recent_sign_in
from authgate.ui.deps import AccountForm, AccountPage, Form
from authgate.ui.forms import FormErrors, errors_of, kept, one_error
from authgate.ui.messages import N_, PROBLEMS, problem_text
from authgate.ui.page import Page, PageAnswer, path_with_query

router = APIRouter(include_in_schema=False)

USERS_READ, USERS_WRITE, AUDIT_READ, WEBHOOKS_MANAGE = "users:read", "users:write", "audit:read", "webhooks:manage"
SECTIONS = (("users", USERS_READ), ("audit", AUDIT_READ), ("webhooks", WEBHOOKS_MANAGE))
PAGE_SIZE = 50
DELIVERIES_SHOWN = 5
MAX_QUERY_CHARS = 1000


# --- who may come in ------------------------------------------------------------------------------


def recent_proof(page: Page) -> bool:
    """Whether the admin's session holds a recent proof of identity, read without spending it:
    a page only shows; each action spends it (`act`)."""
    assert page.viewer is not None
    return reauth.has_recent_proof(page.rt, page.viewer)


def reauth_url(back: str) -> str:
    return "/ui/reauth?" + urlencode({"return_to": back})


def caps_of(page: Page) -> list[str]:
    assert page.viewer is not None
    return page.rt.roles.caps(page.viewer.user.role)


def may(page: Page, cap: str) -> bool:
    return has_caps(caps_of(page), cap)


def error_page(page: Page, status: int, message: str) -> Response:
    return page.render("ui/error.html", status=status, errors=one_error(message, status=status))


def forbidden_page(page: Page) -> Response:
    return error_page(page, 403, PROBLEMS["forbidden"])


def refusal_page(page: Page, exc: AuthError) -> Response:
    return error_page(page, exc.status, problem_text(exc.code.value) or exc.detail or exc.title)


async def admin_page(page: AccountPage) -> Page:
    """A console page: an administrator, with a recent proof."""
    if not page.may_administer():
        raise PageAnswer(forbidden_page(page))
    if not recent_proof(page):
        raise PageAnswer(page.redirect(reauth_url(path_with_query(page.request))))
    return page


AdminPage = Annotated[Page, Depends(admin_page)]


async def admin_form(form: AccountForm) -> Form:
    """A console action, once the form passed the CSRF checks (the proof is checked by `act`)."""
    if not form.page.may_administer():
        raise PageAnswer(forbidden_page(form.page))
    return form


AdminForm = Annotated[Form, Depends(admin_form)]


def needs(page: Page, cap: str) -> None:
    if not may(page, cap):
        raise PageAnswer(forbidden_page(page))


def sections(page: Page) -> dict[str, bool]:
    return {name: may(page, cap) for name, cap in SECTIONS}


def render(page: Page, name: str, section: str, **context: Any) -> Response:
    return page.render(name, sections=sections(page), section=section, when=when, **context)


def when(moment: datetime | None) -> str:
    """A time as the console shows it: UTC, to the second."""
    if moment is None:
        return ""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


# --- the console's front door --------------------------------------------------------------------


@router.get("/ui/admin")
async def console(page: AdminPage) -> Response:
    """To the first section the caller may see."""
    shown = sections(page)
    first = next((name for name, _ in SECTIONS if shown[name]), "users")
    return page.redirect(f"/ui/admin/{first}")


# --- users --------------------------------------------------------------------------------------------


def too_long(values: dict[str, str], cursor: str | None) -> None:
    """A query field or cursor longer than any the API takes is refused, as the API does."""
    problems = [FieldError(name, N_("This is too long.")) for name, v in values.items() if len(v) > MAX_QUERY_CHARS]
    if cursor is not None and len(cursor) > MAX_QUERY_CHARS:
        problems.append(FieldError("cursor", N_("This page link is not valid.")))
    if problems:
        raise validation_failed(*problems)


def _disabled_filter(value: str | None) -> bool | None:
    return {"true": True, "false": False}.get(value or "")


async def _role_names(page: Page, *, grantable: bool) -> list[str]:
    """The roles of the role book (only those the caller may give, with `grantable`)."""
    names = [role.name for role in await roles_admin.list_roles(page.rt)]
    if not grantable:
        return names
    mine = caps_of(page)
    return [name for name in names if grants(mine, page.rt.roles.caps(name))]


@router.get("/ui/admin/users")
async def users(page: AdminPage) -> Response:
    needs(page, USERS_READ)
    filters = {name: page.query(name) for name in ("email", "role", "disabled")}
    values = {name: value for name, value in filters.items() if value is not None}
    errors: FormErrors | None = None
    found: users_admin.UserPage | None = None
    try:
        too_long(values, page.query("cursor"))
        found = await users_admin.list_users(
            page.rt,
            email=filters["email"],
            role=filters["role"],
            disabled=_disabled_filter(filters["disabled"]),
            cursor=page.query("cursor"),
            limit=PAGE_SIZE,
        )
    except AuthError as exc:
        errors = errors_of(exc, on_form=frozenset(filters))
    next_url = None
    if found is not None and found.next_cursor:
        next_url = "/ui/admin/users?" + urlencode({**values, "cursor": found.next_cursor})
    return render(
        page,
        "ui/admin_users.html",
        "users",
        status=errors.status if errors else 200,
        errors=errors,
        values=values,
        role_options=[(name, name) for name in await _role_names(page, grantable=False)],
        users=found.items if found is not None else [],
        locked=found.locked_until if found is not None else {},
        next_url=next_url,
    )


def user_url(user_id: str) -> str:
    return f"/ui/admin/users/{quote(user_id, safe='')}"


@dataclass
class UserView:
    """Everything the user's page shows."""

    user: Any
    locked_until: datetime | None
    identities: list[Any]
    passkeys: list[Any]
    sessions: list[Any]
    roles: list[str]
    may_change: bool


async def _user_view(page: Page, user_id: str) -> UserView:
    rt, viewer = page.rt, page.viewer
    assert viewer is not None
    users_admin.require_reader(rt, viewer)
    user = await users_admin.get_user(rt, caller=viewer, user_id=user_id)
    locked = await users_admin.locked_until(rt, user_ids=[user.id])
    mine = caps_of(page)
    return UserView(
        user=user,
        locked_until=locked.get(user.id),
        identities=await oauth_flows.linked_identities(rt, user_id=user.id),
        passkeys=await users_admin.passkeys_of(rt, caller=viewer, user_id=user.id),
        sessions=await users_admin.sessions_of(rt, caller=viewer, user_id=user.id),
        roles=await _role_names(page, grantable=True),
        may_change=has_caps(mine, USERS_WRITE) and grants(mine, rt.roles.caps(user.role)),
    )


async def _user_page(
    page: Page,
    user_id: str,
    *,
    status: int = 200,
    errors: FormErrors | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    try:
        view = await _user_view(page, user_id)
    except AuthError as exc:
        return refusal_page(page, exc)
    roles = view.roles if view.user.role in view.roles else [view.user.role, *view.roles]
    return render(
        page,
        "ui/admin_user.html",
        "users",
        status=status,
        errors=errors,
        values=values or {},
        view=view,
        u=view.user,
        role_options=[(name, name) for name in roles],
    )


@router.get("/ui/admin/users/{user_id}")
async def user(user_id: str, page: AdminPage) -> Response:
    return await _user_page(page, user_id)


async def act(
    form: Form,
    user_id: str,
    action: Callable[[], Awaitable[object]],
    *,
    notice: str,
    done: str | None = None,
    on_form: frozenset[str] = frozenset(),
    again: Callable[[FormErrors], Awaitable[Response]] | None = None,
) -> Response:
    """One action on the user `user_id`: the recent proof, the one service call, then 303 to
    `done` (the user's page) with `notice`. A refusal: the error page for 403 and 404, else the
    form again (`again`, or the user's page) with the API's status."""
    page = form.page
    assert page.viewer is not None
    back = user_url(user_id)
    try:
        await require_recent_sign_in(page.rt, page.viewer, Reauthentication(), ctx=page.ctx)
    except AuthError as exc:
        if exc.code == ErrorCode.REAUTHENTICATION_REQUIRED:
            return page.redirect(reauth_url(back))
        raise
    try:
        await action()
    except AuthError as exc:
        if exc.status in (403, 404):
            return refusal_page(page, exc)
        errors = errors_of(exc, on_form=on_form)
        if again is not None:
            return await again(errors)
        return await _user_page(page, user_id, status=errors.status, errors=errors, values=kept(form.fields))
    return page.redirect(done or back, notice=notice)


def _admin_change(form: Form, user_id: str, change: users_admin.AdminChange) -> Callable[[], Awaitable[object]]:
    page = form.page
    assert page.viewer is not None
    viewer = page.viewer

    async def run() -> object:
        return await users_admin.update_user(
            page.rt, caller=viewer, user_id=user_id, change=ProfileChange(), admin=change, ctx=page.ctx
        )

    return run


@router.post("/ui/admin/users/{user_id}/role")
async def change_role(user_id: str, form: AdminForm) -> Response:
    role = form.get("role")
    change = _admin_change(form, user_id, users_admin.AdminChange(role=role))

    async def run() -> object:
        if role is None:
            raise validation_failed(FieldError("role", N_("Choose a role.")))
        return await change()

    return await act(form, user_id, run, notice="role_changed", on_form=frozenset({"role"}))


@router.post("/ui/admin/users/{user_id}/disable")
async def disable(user_id: str, form: AdminForm) -> Response:
    change = users_admin.AdminChange(disabled=True)
    return await act(form, user_id, _admin_change(form, user_id, change), notice="user_disabled")


@router.post("/ui/admin/users/{user_id}/enable")
async def enable(user_id: str, form: AdminForm) -> Response:
    change = users_admin.AdminChange(disabled=False)
    return await act(form, user_id, _admin_change(form, user_id, change), notice="user_enabled")


@router.post("/ui/admin/users/{user_id}/unlock")
async def unlock(user_id: str, form: AdminForm) -> Response:
    caller = form.viewer
    return await act(
        form, user_id, lambda: users_admin.unlock(form.page.rt, caller=caller, user_id=user_id), notice="user_unlocked"
    )


@router.post("/ui/admin/users/{user_id}/sessions/revoke")
async def revoke_sessions(user_id: str, form: AdminForm) -> Response:
    rt, caller, session_id = form.page.rt, form.viewer, form.get("sessionId")

    async def run() -> None:
        if session_id is not None:
            await users_admin.revoke_session(rt, caller=caller, user_id=user_id, session_id=session_id)
        else:
            await users_admin.revoke_all_sessions(rt, caller=caller, user_id=user_id)

    return await act(form, user_id, run, notice="user_sessions_ended")


@router.get("/ui/admin/users/{user_id}/mfa/reset")
async def reset_mfa_confirm(user_id: str, page: AdminPage) -> Response:
    return await _confirm_page(page, user_id, "mfa")


@router.post("/ui/admin/users/{user_id}/mfa/reset")
async def reset_mfa(user_id: str, form: AdminForm) -> Response:
    caller = form.viewer
    return await act(
        form,
        user_id,
        lambda: users_admin.reset_mfa(form.page.rt, caller=caller, user_id=user_id),
        notice="user_mfa_reset",
    )


@router.post("/ui/admin/users/{user_id}/passkeys/{passkey_id}/delete")
async def remove_passkey(user_id: str, passkey_id: str, form: AdminForm) -> Response:
    rt, caller = form.page.rt, form.viewer
    return await act(
        form,
        user_id,
        lambda: users_admin.remove_passkey(rt, caller=caller, user_id=user_id, passkey_id=passkey_id),
        notice="user_passkey_removed",
    )


@router.post("/ui/admin/users/{user_id}/password-reset")
async def password_reset(user_id: str, form: AdminForm) -> Response:
    rt, caller = form.page.rt, form.viewer
    return await act(
        form,
        user_id,
        lambda: users_admin.send_password_reset(rt, caller=caller, user_id=user_id),
        notice="user_reset_sent",
    )


async def _confirm_page(
    page: Page, user_id: str, kind: str, *, status: int = 200, errors: FormErrors | None = None
) -> Response:
    assert page.viewer is not None
    needs(page, USERS_WRITE)  # a confirmation is the first step of its action
    try:
        users_admin.require_reader(page.rt, page.viewer)
        target = await users_admin.get_user(page.rt, caller=page.viewer, user_id=user_id)
    except AuthError as exc:
        return refusal_page(page, exc)
    return render(page, "ui/admin_confirm.html", "users", status=status, errors=errors, kind=kind, u=target)


@router.get("/ui/admin/users/{user_id}/delete")
async def delete_confirm(user_id: str, page: AdminPage) -> Response:
    return await _confirm_page(page, user_id, "delete")


def _same_email(typed: str | None, email: str) -> bool:
    try:
        return normalize_email(typed or "").lower() == email.lower()
    except ValueError:
        return False


@router.post("/ui/admin/users/{user_id}/delete")
async def delete(user_id: str, form: AdminForm) -> Response:
    page, caller = form.page, form.viewer

    async def run() -> None:
        users_admin.require_reader(page.rt, caller)
        target = await users_admin.get_user(page.rt, caller=caller, user_id=user_id)
        if not _same_email(form.get("email"), target.email):
            raise validation_failed(FieldError("email", N_("Type the account's email address exactly as shown.")))
        await users_admin.delete_user(page.rt, caller=caller, user_id=user_id, proof=Reauthentication(), ctx=page.ctx)

    async def again(errors: FormErrors) -> Response:
        return await _confirm_page(page, user_id, "delete", status=errors.status, errors=errors)

    return await act(
        form, user_id, run, notice="user_deleted", done="/ui/admin/users", on_form=frozenset({"email"}), again=again
    )


# --- the audit trail -----------------------------------------------------------------------------------

AUDIT_FIELDS = ("userId", "type", "since", "until")


def _moment(errors: list[FieldError], name: str, value: str | None) -> datetime | None:
    """A time the form gives (`2026-11-23T12:00`, or with a zone); without one, UTC."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        errors.append(FieldError(name, N_("Enter a time like 2026-11-23T12:00 (UTC).")))
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _data_text(data: str | None) -> str:
    if not data:
        return ""
    try:
        return json.dumps(json.loads(data), ensure_ascii=False, sort_keys=True)
    except ValueError:
        return data


@router.get("/ui/admin/audit")
async def audit_trail(page: AdminPage) -> Response:
    needs(page, AUDIT_READ)
    values = {name: value for name in AUDIT_FIELDS if (value := page.query(name)) is not None}
    errors: FormErrors | None = None
    found: audit.AuditPage | None = None
    cursor = page.query("cursor")
    try:
        too_long(values, cursor)
        problems: list[FieldError] = []
        since = _moment(problems, "since", values.get("since"))
        until = _moment(problems, "until", values.get("until"))
        if problems:
            raise validation_failed(*problems)
        query = audit.AuditQuery(
            user_id=values.get("userId"),
            types=values.get("type"),
            since=since,
            until=until,
            cursor=cursor,
            limit=PAGE_SIZE,
        )
        found = await audit.entries(page.rt, query)
    except AuthError as exc:
        errors = errors_of(exc, on_form=frozenset(AUDIT_FIELDS))
    entries = found.items if found is not None else []
    names = await audit.names_of(page.rt, {i for e in entries for i in (e.user_id, e.actor_id) if i is not None})
    rows = [
        {
            "at": when(e.at),
            "type": e.type,
            "user": names.get(e.user_id, "") if e.user_id else "",
            "user_id": e.user_id,
            "actor": names.get(e.actor_id, "") if e.actor_id else "",
            "ip": e.ip_address or "",
            "data": _data_text(e.data),
        }
        for e in entries
    ]
    next_url = None
    if found is not None and found.next_cursor:
        next_url = "/ui/admin/audit?" + urlencode({**values, "cursor": found.next_cursor})
    return render(
        page,
        "ui/admin_audit.html",
        "audit",
        status=errors.status if errors else 200,
        errors=errors,
        values=values,
        rows=rows,
        next_url=next_url,
    )


# --- webhooks (read only) -------------------------------------------------------------------------------


def shown_url(url: str) -> str:
    """A webhook's URL without its query, fragment or user information, which may hold a token."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port is not None else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


@router.get("/ui/admin/webhooks")
async def webhooks_page(page: AdminPage) -> Response:
    needs(page, WEBHOOKS_MANAGE)
    rows = []
    for hook in await webhooks.list_webhooks(page.rt):
        deliveries = await webhooks.list_deliveries(page.rt, webhook_id=hook.id, cursor=None, limit=DELIVERIES_SHOWN)
        try:
            events = json.loads(hook.events)
        except ValueError:
            events = [hook.events]
        rows.append(
            {"url": shown_url(hook.url), "events": events, "active": hook.active, "deliveries": deliveries.items}
        )
    return render(page, "ui/admin_webhooks.html", "webhooks", hooks=rows)
