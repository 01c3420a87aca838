"""The admin console (`/ui/admin…`): who may come in, what each page shows, and each action's
effect seen through the API, with the audit entry its API twin writes (the admin as actor)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from sqlalchemy import update

from authgate.services import webhooks
from authgate.services.admin import roles as roles_admin
from authgate.services.admin import users as users_admin
from authgate.storage.models import Session, utcnow
from authgate.ui.routes import admin as admin_routes
from tests.support.app import CLIENT_IP, ClientFactory, runtime, sql
from tests.support.http import STRONG_PASSWORD, bearer, from_address
from tests.support.mfa import enrol
from tests.support.passkeys import Account, add_passkey
from tests.support.ui import BROWSER, ORIGIN, csrf_of, open_page, parse, sign_in, submit
from tests.support.webauthn import SoftAuthenticator
from tests.support.webhooks import FAST_WEBHOOKS

ROOT = "root@example.com"
ELSEWHERE = "198.51.100.20"  # the address the other browsers and API clients of a test come from


# --- helpers ---------------------------------------------------------------------------------------


@asynccontextmanager
async def console(make_client: ClientFactory, **settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(ui_admin=True, **settings) as client:
        yield client


async def account(client: httpx.AsyncClient, email: str, role: str = "user", password: str | None = None) -> str:
    user = await users_admin.create_user(
        runtime(client), email=email, password=password or STRONG_PASSWORD, role=role, verified=True
    )
    return user.id


async def role(client: httpx.AsyncClient, name: str, *caps: str) -> None:
    await roles_admin.create_role(runtime(client), caller_caps=["*"], name=name, caps=list(caps), description=None)


async def signed_in_admin(client: httpx.AsyncClient, email: str = ROOT, role_name: str = "admin") -> str:
    """A new account holding `role_name`, signed in on the pages in `client`'s cookie jar."""
    user_id = await account(client, email, role_name)
    await sign_in(client, email, STRONG_PASSWORD)
    return user_id


@asynccontextmanager
async def other(client: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    """Another browser or API client of the same app, with its own cookie jar."""
    async with from_address(client, ELSEWHERE) as second:
        yield second


async def api_login(client: httpx.AsyncClient, email: str) -> dict[str, Any]:
    """Sign in over the API (from another client): the answer's body."""
    async with other(client) as api:
        response = await api.post("/login", json={"email": email, "password": STRONG_PASSWORD})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def api(client: httpx.AsyncClient, method: str, path: str, token: str, **kwargs: Any) -> httpx.Response:
    async with other(client) as second:
        return await second.request(method, path, headers=bearer(token), **kwargs)


async def audit_of(client: httpx.AsyncClient, token: str, user_id: str, type_: str) -> list[dict[str, Any]]:
    response = await api(client, "GET", "/audit/logs", token, params={"userId": user_id, "type": type_})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def post_action(client: httpx.AsyncClient, path: str, fields: dict[str, str] | None = None) -> httpx.Response:
    """POST a console action with a CSRF token taken from a page of this session (any form's
    token serves: it is bound to the cookie and the session, not to a form)."""
    shown = await open_page(client, "/ui/logout")
    assert shown.status_code == 200, shown.text
    data = {"csrf_token": csrf_of(shown.text), **(fields or {})}
    return await client.post(path, data=data, headers={"Origin": ORIGIN, **BROWSER})


def assert_markup(html: str) -> None:
    """The contract's markup rules a page keeps: one h1, unique ids, a label for each field,
    tables with captions and column headers, no inline script or style."""
    page = parse(html)
    assert len(page.h1) == 1, page.h1
    assert len(page.ids) == len(set(page.ids)), sorted(i for i in page.ids if page.ids.count(i) > 1)
    for element_id, attributes in page.by_id.items():
        if attributes["<tag>"] in ("input", "select", "textarea") and attributes.get("type") != "hidden":
            assert f'<label for="{element_id}">' in html, element_id
            assert attributes.get("name") == element_id
    assert " style=" not in html and "<style" not in html
    assert re.search(r"<script(?![^>]*\bsrc=)", html) is None
    assert re.search(r"\son[a-z]+=", html) is None
    assert html.count("<table") == html.count("<caption>")
    assert "<th>" not in html
    for form in re.findall(r'<form method="post".*?</form>', html, re.S):
        assert 'name="csrf_token"' in form


def assert_page(response: httpx.Response, status: int = 200) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert_markup(response.text)
    return response.text


def redirected_to(response: httpx.Response) -> tuple[str, dict[str, list[str]]]:
    assert response.status_code == 303, response.text
    parts = urlsplit(response.headers["location"])
    return parts.path, parse_qs(parts.query)


def emails_in_table(html: str) -> list[str]:
    return re.findall(r'<td><a href="/ui/admin/users/[^"]+">([^<]+)</a></td>', html)


# --- who may come in --------------------------------------------------------------------------------


async def test_with_the_console_off_its_paths_are_the_404_page(client: httpx.AsyncClient) -> None:
    await signed_in_admin(client)
    for path in ("/ui/admin", "/ui/admin/users", "/ui/admin/audit", "/ui/admin/webhooks"):
        response = await open_page(client, path)
        assert_page(response, 404)
    user_id = (await sql(client, "SELECT id FROM users"))[0][0]
    assert_page(await post_action(client, f"/ui/admin/users/{user_id}/disable"), 404)
    assert (await sql(client, "SELECT disabled FROM users"))[0][0] in (False, 0)
    assert 'href="/ui/admin"' not in (await open_page(client, "/ui/logout")).text


async def test_anonymous_browsers_are_sent_to_sign_in_and_back(make_client: ClientFactory) -> None:
    async with console(make_client) as client:
        for path in ("/ui/admin", "/ui/admin/users?email=ada", "/ui/admin/audit"):
            where, query = redirected_to(await open_page(client, path))
            assert where == "/ui/login" and query["return_to"] == [path]


async def test_a_plain_user_gets_the_403_page(make_client: ClientFactory) -> None:
    async with console(make_client) as client:
        target = await account(client, "target@example.com")
        await signed_in_admin(client, "plain@example.com", "user")
        assert 'href="/ui/admin"' not in (await open_page(client, "/ui/logout")).text
        for path in ("/ui/admin", "/ui/admin/users", f"/ui/admin/users/{target}", "/ui/admin/audit"):
            assert_page(await open_page(client, path), 403)
        assert_page(await post_action(client, f"/ui/admin/users/{target}/disable"), 403)
        assert (await sql(client, "SELECT disabled FROM users WHERE id = :id", id=target))[0][0] in (False, 0)


async def test_the_front_door_opens_the_first_section_the_role_may_see(make_client: ClientFactory) -> None:
    async with console(make_client) as client:
        await role(client, "auditor", "audit:read")
        await role(client, "hooks", "webhooks:manage")
        for email, role_name, section in [
            (ROOT, "admin", "/ui/admin/users"),
            ("auditor@example.com", "auditor", "/ui/admin/audit"),
            ("hooks@example.com", "hooks", "/ui/admin/webhooks"),
        ]:
            async with other(client) as browser:
                await signed_in_admin(browser, email, role_name)
                assert 'href="/ui/admin"' in (await open_page(browser, "/ui/logout")).text
                where, _ = redirected_to(await open_page(browser, "/ui/admin"))
                assert where == section
                assert_page(await open_page(browser, section))
        async with other(client) as browser:
            await sign_in(browser, "auditor@example.com", STRONG_PASSWORD)
            assert_page(await open_page(browser, "/ui/admin/users"), 403)
            assert_page(await open_page(browser, "/ui/admin/webhooks"), 403)


async def test_without_a_recent_proof_pages_and_actions_send_to_reauth(make_client: ClientFactory) -> None:
    async with console(make_client, reauth_max_age_seconds=0) as client:
        target = await account(client, "target@example.com")
        await signed_in_admin(client)
        for path in ("/ui/admin/users?email=t", f"/ui/admin/users/{target}", "/ui/admin/audit"):
            where, query = redirected_to(await open_page(client, path))
            assert where == "/ui/reauth" and query["return_to"] == [path]
        where, query = redirected_to(await post_action(client, f"/ui/admin/users/{target}/disable"))
        assert where == "/ui/reauth" and query["return_to"] == [f"/ui/admin/users/{target}"]
        assert (await sql(client, "SELECT disabled FROM users WHERE id = :id", id=target))[0][0] in (False, 0)


async def test_a_proof_at_reauth_opens_the_console_for_one_action(make_client: ClientFactory) -> None:
    """With AUTHGATE_REAUTH_MAX_AGE_SECONDS=0 every change asks a proof: the one given at
    /ui/reauth shows the pages until an action spends it, and the next page asks again."""
    async with console(make_client, reauth_max_age_seconds=0) as client:
        target = await account(client, "target@example.com")
        await signed_in_admin(client)
        back = f"/ui/admin/users/{target}"
        proved = await submit(
            client, "/ui/reauth", {"currentPassword": STRONG_PASSWORD}, page=f"/ui/reauth?return_to={back}"
        )
        assert redirected_to(proved)[0] == back
        assert_page(await open_page(client, back))
        assert_page(await open_page(client, "/ui/admin/audit"))
        where, query = redirected_to(await post_action(client, f"{back}/disable"))
        assert where == back and query["notice"] == ["user_disabled"]
        assert (await sql(client, "SELECT disabled FROM users WHERE id = :id", id=target))[0][0] in (True, 1)
        where, query = redirected_to(await open_page(client, back))
        assert where == "/ui/reauth" and query["return_to"] == [back]
        where, _ = redirected_to(await post_action(client, f"{back}/enable"))
        assert where == "/ui/reauth"
        assert (await sql(client, "SELECT disabled FROM users WHERE id = :id", id=target))[0][0] in (True, 1)


async def test_an_aged_sign_in_is_no_recent_proof(make_client: ClientFactory) -> None:
    async with console(make_client) as client:
        admin_id = await signed_in_admin(client)
        await sql(client, update(Session).values(created_at=utcnow() - timedelta(hours=1)))
        runtime(client).principals.drop_user(admin_id)
        where, _ = redirected_to(await open_page(client, "/ui/admin/users"))
        assert where == "/ui/reauth"


# --- users: reading ---------------------------------------------------------------------------------


async def test_a_reader_sees_users_but_may_not_act(make_client: ClientFactory) -> None:
    async with console(make_client) as client:
        await role(client, "support", "users:read")
        target = await account(client, "target@example.com")
        await signed_in_admin(client, "support@example.com", "support")
        listed = assert_page(await open_page(client, "/ui/admin/users"))
        assert emails_in_table(listed) == ["target@example.com", "support@example.com"]
        for header in ("Email", "Name", "Role", "Status", "Created"):
            assert f'<th scope="col">{header}</th>' in listed
        shown = assert_page(await open_page(client, f"/ui/admin/users/{target}"))
        assert "<h1>target@example.com</h1>" in shown
        assert f'href="/ui/admin/audit?userId={target}"' in shown
        assert "/disable" not in shown and "Change role" not in shown  # no forms it could not use
        for action in ("disable", "enable", "unlock", "mfa/reset", "sessions/revoke", "password-reset", "delete"):
            assert_page(
                await post_action(client, f"/ui/admin/users/{target}/{action}", {"email": "target@example.com"}), 403
            )
        assert_page(await post_action(client, f"/ui/admin/users/{target}/role", {"role": "support"}), 403)
        for confirmation in ("mfa/reset", "delete"):  # the first step of an action it may not take
            refused = assert_page(await open_page(client, f"/ui/admin/users/{target}/{confirmation}"), 403)
            assert f'action="/ui/admin/users/{target}' not in refused
        assert (await sql(client, "SELECT role, disabled FROM users WHERE id = :id", id=target))[0] in [
            ("user", False),
            ("user", 0),
        ]
        assert_page(await open_page(client, "/ui/admin/users/no-such-user"), 404)


async def test_users_search_and_pages(make_client: ClientFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    async with console(make_client) as client:
        await signed_in_admin(client)
        for n in range(5):
            await account(client, f"ada{n}@example.com")
        await account(client, "bob@example.com")
        await sql(client, "UPDATE users SET disabled = :yes WHERE email = 'ada3@example.com'", yes=True)
        search = assert_page(await open_page(client, "/ui/admin/users?email=ADA&role=&disabled="))
        assert emails_in_table(search) == [f"ada{n}@example.com" for n in range(5)]
        assert 'id="email"' in search and 'value="ADA"' in search and ">Search</button>" in search
        admins = assert_page(await open_page(client, "/ui/admin/users?role=admin"))
        assert emails_in_table(admins) == [ROOT]
        disabled = assert_page(await open_page(client, "/ui/admin/users?disabled=true"))
        assert emails_in_table(disabled) == ["ada3@example.com"] and "Disabled" in disabled

        monkeypatch.setattr(admin_routes, "PAGE_SIZE", 2)
        seen: list[str] = []
        url: str | None = "/ui/admin/users?email=ada"
        while url is not None:
            html = assert_page(await open_page(client, url))
            seen += emails_in_table(html)
            found = re.search(r'<a href="([^"]+)" rel="next">Next page</a>', html)
            url = found.group(1).replace("&amp;", "&") if found else None
            assert url is None or "email=ada" in url
        assert seen == [f"ada{n}@example.com" for n in range(5)]

        bad = await open_page(client, "/ui/admin/users?cursor=junk")
        assert_page(bad, 400)
        assert 'id="error-summary"' in bad.text


# --- users: actions -----------------------------------------------------------------------------------


async def test_role_change_through_the_page_as_through_the_api(make_client: ClientFactory) -> None:
    async with console(make_client) as client:
        await role(client, "support", "users:read")
        target = await account(client, "target@example.com")
        admin_id = await signed_in_admin(client)
        token = (await api_login(client, ROOT))["token"]
        page = assert_page(await open_page(client, f"/ui/admin/users/{target}"))
        assert '<label for="role">' in page and '<option value="support">' in page
        response = await submit(
            client, f"/ui/admin/users/{target}/role", {"role": "support"}, page=f"/ui/admin/users/{target}"
        )
        where, query = redirected_to(response)
        assert where == f"/ui/admin/users/{target}" and query["notice"] == ["role_changed"]
        after = assert_page(await open_page(client, response.headers["location"]))
        assert '<p class="notice" role="status">Role changed.</p>' in after
        assert (await api(client, "GET", f"/user/{target}", token)).json()["role"] == "support"
        [entry] = await audit_of(client, token, target, "user.role_changed")
        assert entry["actorId"] == admin_id and entry["ipAddress"] == CLIENT_IP
        assert entry["data"] == {"before": "user", "after": "support"}

        missing = assert_page(await post_action(client, f"/ui/admin/users/{target}/role"), 400)
        assert 'href="#role"' in missing
        unknown = await post_action(client, f"/ui/admin/users/{target}/role", {"role": "nobody"})
        html = assert_page(unknown, 400)
        assert 'aria-invalid="true"' in html and 'href="#role"' in html


async def test_disabling_ends_every_session_at_once_and_enabling_opens_sign_in(make_client: ClientFactory) -> None:
    async with console(make_client) as client:
        target = await account(client, "target@example.com")
        admin_id = await signed_in_admin(client)
        token = (await api_login(client, ROOT))["token"]
        theirs = await api_login(client, "target@example.com")
        assert (await api(client, "GET", "/user", theirs["token"])).status_code == 200

        where, query = redirected_to(await post_action(client, f"/ui/admin/users/{target}/disable"))
        assert query["notice"] == ["user_disabled"]
        assert (await api(client, "GET", "/user", theirs["token"])).status_code == 401
        async with other(client) as second:
            refreshed = await second.post("/refresh", json={"refreshToken": theirs["refreshToken"]})
        assert refreshed.status_code == 401, refreshed.text
        assert (await api(client, "GET", f"/user/{target}", token)).json()["disabled"] is True
        [entry] = await audit_of(client, token, target, "user.disabled")
        assert entry["actorId"] == admin_id
        shown = assert_page(await open_page(client, where))
        assert "Enable account" in shown and "Disable account" not in shown

        _, query = redirected_to(await post_action(client, f"/ui/admin/users/{target}/enable"))
        assert query["notice"] == ["user_enabled"]
        assert (await api(client, "GET", f"/user/{target}", token)).json()["disabled"] is False
        assert [e["actorId"] for e in await audit_of(client, token, target, "user.enabled")] == [admin_id]
        await api_login(client, "target@example.com")


async def test_unlock_sessions_and_password_reset(make_client: ClientFactory) -> None:
    async with console(make_client) as client:
        target = await account(client, "target@example.com")
        admin_id = await signed_in_admin(client)
        token = (await api_login(client, ROOT))["token"]

        async with other(client) as theirs:
            for _ in range(5):  # the default threshold of failed sign-ins
                wrong = await theirs.post("/login", json={"email": "target@example.com", "password": "Wrong-Pass-1"})
                assert wrong.status_code == 401
        shown = assert_page(await open_page(client, f"/ui/admin/users/{target}"))
        assert re.search(r"<dt>Locked until \(UTC\)</dt><dd>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d</dd>", shown), shown
        assert "Active · Locked" in (await open_page(client, "/ui/admin/users")).text
        _, query = redirected_to(await post_action(client, f"/ui/admin/users/{target}/unlock"))
        assert query["notice"] == ["user_unlocked"]
        [entry] = await audit_of(client, token, target, "user.unlocked")
        assert entry["actorId"] == admin_id and entry["data"] == {"wasLocked": True}
        assert (await api(client, "GET", f"/user/{target}", token)).json()["lockedUntil"] is None
        assert "<dd>Not locked</dd>" in (await open_page(client, f"/ui/admin/users/{target}")).text

        first = await api_login(client, "target@example.com")
        second = await api_login(client, "target@example.com")
        listed = (await api(client, "GET", f"/user/{target}/sessions", token)).json()
        assert len(listed) == 2
        page = assert_page(await open_page(client, f"/ui/admin/users/{target}"))
        assert "Sign out of all sessions" in page and page.count('name="sessionId"') == 2
        one = next(s["id"] for s in listed if s["id"] != _sid(second["token"]))
        _, query = redirected_to(
            await post_action(client, f"/ui/admin/users/{target}/sessions/revoke", {"sessionId": one})
        )
        assert query["notice"] == ["user_sessions_ended"]
        assert (await api(client, "GET", "/user", first["token"])).status_code == 401
        assert (await api(client, "GET", "/user", second["token"])).status_code == 200
        redirected_to(await post_action(client, f"/ui/admin/users/{target}/sessions/revoke"))
        assert (await api(client, "GET", "/user", second["token"])).status_code == 401
        assert (await api(client, "GET", f"/user/{target}/sessions", token)).json() == []
        revoked = await audit_of(client, token, target, "session.revoked")
        assert revoked and {e["actorId"] for e in revoked} == {admin_id}
        gone = await post_action(client, f"/ui/admin/users/{target}/sessions/revoke", {"sessionId": one})
        assert_page(gone, 404)

        _, query = redirected_to(await post_action(client, f"/ui/admin/users/{target}/password-reset"))
        assert query["notice"] == ["user_reset_sent"]
        [entry] = await audit_of(client, token, target, "password.reset_requested")
        assert entry["actorId"] == admin_id


def _sid(token: str) -> str:
    sid: str = jwt.decode(token, options={"verify_signature": False})["sid"]
    return sid


async def test_second_factors_are_removed_after_a_confirmation(make_client: ClientFactory) -> None:
    async with console(make_client) as client:
        async with other(client) as theirs:
            mfa = await enrol(theirs, "target@example.com")
        admin_id = await signed_in_admin(client)
        token = (await api_login(client, ROOT))["token"]
        path = f"/ui/admin/users/{mfa.user_id}/mfa/reset"
        assert f'href="{path}"' in (await open_page(client, f"/ui/admin/users/{mfa.user_id}")).text
        confirm = assert_page(await open_page(client, path))
        assert "Remove second factors</button>" in confirm and f'action="{path}"' in confirm
        assert (await api(client, "GET", f"/user/{mfa.user_id}", token)).json()["mfaEnabled"] is True
        _, query = redirected_to(await submit(client, path, {}))
        assert query["notice"] == ["user_mfa_reset"]
        assert (await api(client, "GET", f"/user/{mfa.user_id}", token)).json()["mfaEnabled"] is False
        [entry] = await audit_of(client, token, mfa.user_id, "mfa.reset")
        assert entry["actorId"] == admin_id and "totp" in entry["data"]["factors"]


async def test_a_lost_passkey_is_removed(make_client: ClientFactory) -> None:
    async with console(make_client) as client:
        async with other(client) as theirs:
            body = (
                await theirs.post(
                    "/api/auth/register", json={"email": "target@example.com", "password": STRONG_PASSWORD}
                )
            ).json()
            who = Account("target@example.com", body["user"]["id"], body["accessToken"], SoftAuthenticator())
            passkey = await add_passkey(theirs, who, name="Laptop")
        admin_id = await signed_in_admin(client)
        token = (await api_login(client, ROOT))["token"]
        page = assert_page(await open_page(client, f"/ui/admin/users/{who.user_id}"))
        action = f"/ui/admin/users/{who.user_id}/passkeys/{passkey['id']}/delete"
        assert "Laptop" in page and f'action="{action}"' in page
        _, query = redirected_to(await post_action(client, action))
        assert query["notice"] == ["user_passkey_removed"]
        assert (await api(client, "GET", f"/user/{who.user_id}/passkeys", token)).json() == []
        [entry] = await audit_of(client, token, who.user_id, "passkey.removed")
        assert entry["actorId"] == admin_id
        assert_page(await post_action(client, action), 404)


async def test_deleting_asks_for_the_accounts_email(make_client: ClientFactory) -> None:
    async with console(make_client) as client:
        target = await account(client, "target@example.com")
        admin_id = await signed_in_admin(client)
        token = (await api_login(client, ROOT))["token"]
        path = f"/ui/admin/users/{target}/delete"
        confirm = assert_page(await open_page(client, path))
        assert '<label for="email">' in confirm and "Delete account</button>" in confirm

        wrong = await submit(client, path, {"email": "other@example.com"})
        html = assert_page(wrong, 400)
        assert 'aria-invalid="true"' in html and 'aria-describedby="email-error"' in html
        assert (await api(client, "GET", f"/user/{target}", token)).status_code == 200

        where, query = redirected_to(await submit(client, path, {"email": "Target@Example.com"}))
        assert where == "/ui/admin/users" and query["notice"] == ["user_deleted"]
        assert (await api(client, "GET", f"/user/{target}", token)).status_code == 404
        [entry] = await audit_of(client, token, target, "user.deleted")
        assert entry["actorId"] == admin_id
        assert_page(await open_page(client, path), 404)


async def test_no_one_acts_above_their_own_rights(make_client: ClientFactory) -> None:
    async with console(make_client) as client:
        await role(client, "useradmin", "users:read", "users:write")
        boss = await account(client, "boss@example.com", "admin")
        plain = await account(client, "plain@example.com")
        await signed_in_admin(client, "helper@example.com", "useradmin")
        shown = assert_page(await open_page(client, f"/ui/admin/users/{boss}"))
        assert "Disable account" not in shown
        for action, fields in [
            ("disable", {}),
            ("unlock", {}),
            ("sessions/revoke", {}),
            ("mfa/reset", {}),
            ("password-reset", {}),
            ("delete", {"email": "boss@example.com"}),
            ("role", {"role": "user"}),
        ]:
            assert_page(await post_action(client, f"/ui/admin/users/{boss}/{action}", fields), 403)
        assert (await sql(client, "SELECT role, disabled FROM users WHERE id = :id", id=boss))[0][0] == "admin"

        page = assert_page(await open_page(client, f"/ui/admin/users/{plain}"))
        assert '<option value="useradmin"' in page and '<option value="admin"' not in page
        assert_page(await post_action(client, f"/ui/admin/users/{plain}/role", {"role": "admin"}), 403)
        assert (await sql(client, "SELECT role FROM users WHERE id = :id", id=plain))[0][0] == "user"
        redirected_to(await post_action(client, f"/ui/admin/users/{plain}/disable"))


# --- the audit trail --------------------------------------------------------------------------------


async def test_the_audit_trail_filters_and_pages(make_client: ClientFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    async with console(make_client) as client:
        target = await account(client, "target@example.com")
        await signed_in_admin(client)
        for action in ("disable", "enable", "disable"):
            redirected_to(await post_action(client, f"/ui/admin/users/{target}/{action}"))
        trail = assert_page(await open_page(client, f"/ui/admin/audit?userId={target}"))
        for header in ("Time (UTC)", "Type", "User", "Actor", "IP address", "Details"):
            assert f'<th scope="col">{header}</th>' in trail
        types = re.findall(r"<td><code>([^<]+)</code></td>", trail)
        assert [t for t in types if t != "user.updated"] == [
            "user.disabled",
            "user.enabled",
            "user.disabled",
            "user.created",
        ]
        assert types.count("user.updated") == 3
        assert f"<td>{ROOT}</td>" in trail and CLIENT_IP in trail
        assert "&#34;fields&#34;" in trail or "&quot;fields&quot;" in trail  # the data, escaped JSON text

        only = assert_page(await open_page(client, f"/ui/admin/audit?userId={target}&type=user.enabled"))
        assert re.findall(r"<td><code>([^<]+)</code></td>", only) == ["user.enabled"]
        future = assert_page(await open_page(client, "/ui/admin/audit?since=2999-01-01T00:00"))
        assert "No entry matches." in future
        past = assert_page(await open_page(client, "/ui/admin/audit?until=2000-01-01T00:00Z"))
        assert "No entry matches." in past
        bad = await open_page(client, "/ui/admin/audit?since=yesterday")
        html = assert_page(bad, 400)
        assert 'href="#since"' in html and 'aria-describedby="since-error' in html

        monkeypatch.setattr(admin_routes, "PAGE_SIZE", 2)
        seen: list[str] = []
        url: str | None = f"/ui/admin/audit?userId={target}"
        while url is not None:
            html = assert_page(await open_page(client, url))
            seen += re.findall(r"<td><code>([^<]+)</code></td>", html)
            found = re.search(r'<a href="([^"]+)" rel="next">Next page</a>', html)
            url = found.group(1).replace("&amp;", "&") if found else None
        assert seen == types


async def test_an_auditor_without_users_read_sees_who_by_email(make_client: ClientFactory) -> None:
    async with console(make_client) as client:
        await role(client, "auditor", "audit:read")
        target = await account(client, "target@example.com")
        await account(client, "auditor@example.com", "auditor")
        await signed_in_admin(client)
        redirected_to(await post_action(client, f"/ui/admin/users/{target}/disable"))
        async with other(client) as browser:
            await sign_in(browser, "auditor@example.com", STRONG_PASSWORD)
            trail = assert_page(await open_page(browser, f"/ui/admin/audit?userId={target}&type=user.disabled"))
        assert f'<a href="/ui/admin/audit?userId={target}">target@example.com</a>' in trail
        assert f"<td>{ROOT}</td>" in trail


async def test_the_actor_of_a_deleted_account_is_its_id(make_client: ClientFactory) -> None:
    async with console(make_client) as client:
        target = await account(client, "target@example.com")
        helper_id = await account(client, "helper@example.com", "admin")
        await signed_in_admin(client)
        async with other(client) as browser:
            await sign_in(browser, "helper@example.com", STRONG_PASSWORD)
            redirected_to(await post_action(browser, f"/ui/admin/users/{target}/disable"))
        redirected_to(await submit(client, f"/ui/admin/users/{helper_id}/delete", {"email": "helper@example.com"}))
        trail = assert_page(await open_page(client, f"/ui/admin/audit?userId={target}&type=user.disabled"))
        assert f"<td>{helper_id}</td>" in trail and "<td>helper@example.com</td>" not in trail


# --- webhooks -------------------------------------------------------------------------------------------


async def test_webhooks_are_shown_without_their_query(make_client: ClientFactory) -> None:
    async with console(make_client, **FAST_WEBHOOKS) as client:
        await webhooks.create_webhook(
            runtime(client),
            url="http://127.0.0.1:9/hooks/in?token=s3cret-value",
            events=["user.deleted"],
            active=True,
            description=None,
        )
        await role(client, "support", "users:read")
        await signed_in_admin(client)
        html = assert_page(await open_page(client, "/ui/admin/webhooks"))
        assert "<code>http://127.0.0.1:9/hooks/in</code>" in html
        assert "s3cret" not in html and "user.deleted" in html
        assert 'method="post"' not in html.split("<main", 1)[1]  # read only
        assert "None yet" in html

        gone = await account(client, "gone@example.com")
        redirected_to(await submit(client, f"/ui/admin/users/{gone}/delete", {"email": "gone@example.com"}))
        for _ in range(100):  # the courier fans the event out, then tries the (closed) port
            html = assert_page(await open_page(client, "/ui/admin/webhooks"))
            if re.search(r"<code>user\.deleted</code> · (failed|pending|retrying|dead) · [^<]+", html):
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError(html)
        async with other(client) as browser:
            await signed_in_admin(browser, "support@example.com", "support")
            assert_page(await open_page(browser, "/ui/admin/webhooks"), 403)


def test_a_webhook_url_loses_its_query_and_credentials() -> None:
    shown = admin_routes.shown_url("https://user:pw@hooks.example.com:8443/in/x?token=t#frag")
    assert shown == "https://hooks.example.com:8443/in/x"
    assert admin_routes.shown_url("http://[::1]/h?x=1") == "http://[::1]/h"
