"""The anonymous hosted pages over HTTP, on SQLite and PostgreSQL: sign in (password, second
step), register, forgot and reset, magic links, verify email, sign out; their CSRF checks,
headers, `return_to`, and the emailed links that send a browser on to them."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.support.audit import auditor, logs
from tests.support.delivery import MessagingClientFactory
from tests.support.http import STRONG_PASSWORD, bearer, register, set_cookies
from tests.support.mail import Mailbox, link_in, mail_code
from tests.support.mfa import enable_code_factor, enrol
from tests.support.ui import (
    BROWSER,
    ORIGIN,
    Page,
    csrf_of,
    field_error,
    location,
    open_page,
    parse,
    sign_in,
    submit,
)

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
WRONG = "The email or password is not right."


def _without_tokens(html: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]+"', "", html)


async def test_the_sign_in_page_carries_the_pages_headers_and_a_csrf_cookie(client: httpx.AsyncClient) -> None:
    page = await open_page(client, "/ui/login")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"] == CSP
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["referrer-policy"] == "same-origin"
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["cross-origin-opener-policy"] == "same-origin"
    cookie = set_cookies(page)["authgate-csrf"]
    assert "httponly" in cookie and cookie["path"] == "/" and cookie["samesite"].lower() == "lax"
    shown = parse(page.text)
    assert len(shown.h1) == 1
    assert len(shown.ids) == len(set(shown.ids))
    assert "<title>Sign in · authgate</title>" in page.text
    assert shown.by_id["email"]["autocomplete"] == "email webauthn"
    assert shown.by_id["password"]["autocomplete"] == "current-password"
    assert 'for="email"' in page.text and 'for="password"' in page.text


async def test_a_secure_deployment_names_the_csrf_cookie_with_the_host_prefix(make_client) -> None:  # type: ignore[no-untyped-def]
    async with make_client(cookie_secure=True) as client:
        page = await open_page(client, "/ui/login")
    cookie = set_cookies(page)["__Host-authgate-csrf"]
    assert "secure" in cookie and cookie["path"] == "/"


async def test_sign_in_sets_the_api_cookies_and_goes_to_the_account(client: httpx.AsyncClient) -> None:
    await register(client)
    client.cookies.clear()
    before = (await open_page(client, "/ui/login")).cookies.get("authgate-csrf")
    done = await sign_in(client, "ada@example.com", STRONG_PASSWORD)
    assert done.headers["location"] == "/ui/account"
    cookies = set_cookies(done)
    assert cookies["accessToken"]["httponly"] == "" and cookies["refreshToken"]["path"] == "/"
    assert cookies["authgate-csrf"]["value"] != before  # a new CSRF key at each sign-in
    me = await client.get("/user", headers=bearer(cookies["accessToken"]["value"]))
    assert me.json()["email"] == "ada@example.com"
    again = await open_page(client, "/ui/login")
    assert again.status_code == 303 and again.headers["location"] == "/ui/account"
    assert (await open_page(client, "/ui/login?prompt=login")).status_code == 200


async def test_a_wrong_password_and_an_unknown_account_read_alike(client: httpx.AsyncClient) -> None:
    await register(client)
    client.cookies.clear()
    wrong = await submit(client, "/ui/login", {"email": "ada@example.com", "password": "Wrong-Horse-42"})
    unknown = await submit(client, "/ui/login", {"email": "nobody@example.com", "password": "Wrong-Horse-42"})
    for answer in (wrong, unknown):
        assert answer.status_code == 401
        assert field_error(answer.text, "password") == WRONG
        assert '<div id="error-summary" class="error-summary" role="alert" tabindex="-1" autofocus>' in answer.text
        assert '<a href="#password">' in answer.text
        assert 'aria-invalid="true"' not in answer.text.split('id="password"')[0]  # the email field is not blamed
        assert "Wrong-Horse-42" not in answer.text  # secrets are not shown again
    assert _without_tokens(wrong.text).replace("ada@example.com", "X") == _without_tokens(unknown.text).replace(
        "nobody@example.com", "X"
    )


async def test_a_bad_email_is_tied_to_its_field(client: httpx.AsyncClient) -> None:
    answer = await submit(client, "/ui/login", {"email": "not an address", "password": "x"})
    assert answer.status_code == 400
    assert field_error(answer.text, "email") is not None
    assert 'value="not an address"' in answer.text


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
    ],
    ids=["foreign-origin", "null-origin", "cross-site", "same-site"],
)
async def test_a_form_from_elsewhere_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    await register(client)
    client.cookies.clear()
    answer = await submit(
        client, "/ui/login", {"email": "ada@example.com", "password": STRONG_PASSWORD}, headers=headers
    )
    assert answer.status_code == 403
    assert "This form has expired. Reload the page and try again." in answer.text
    assert "accessToken" not in set_cookies(answer)


async def test_a_form_without_its_token_or_with_another_browsers_is_refused(client: httpx.AsyncClient) -> None:
    await register(client)
    client.cookies.clear()
    await open_page(client, "/ui/login")
    body = {"email": "ada@example.com", "password": STRONG_PASSWORD}
    bare = await client.post("/ui/login", data=body, headers={"Origin": ORIGIN, **BROWSER})
    assert bare.status_code == 403
    other = httpx.AsyncClient(transport=client._transport, base_url="http://testserver")
    async with other:
        foreign_token = csrf_of((await open_page(other, "/ui/login")).text)
    forged = await client.post(
        "/ui/login", data={**body, "csrf_token": foreign_token}, headers={"Origin": ORIGIN, **BROWSER}
    )
    assert forged.status_code == 403


async def test_return_to_is_followed_only_on_our_origin_or_the_allow_list(make_client) -> None:  # type: ignore[no-untyped-def]
    async with make_client(redirect_allowlist="https://app.example.com") as client:
        await register(client)
        cases = {
            "/ui/account/sessions": "/ui/account/sessions",
            "https://app.example.com/after": "https://app.example.com/after",
            "//evil.example/x": "/ui/account",
            "/\\evil.example": "/ui/account",
            "https://evil.example/": "/ui/account",
            "https://app.example.com.evil.example/": "/ui/account",
            "https://user@evil.example/": "/ui/account",
            "javascript:alert(1)": "/ui/account",
        }
        for given, expected in cases.items():
            client.cookies.clear()
            done = await submit(
                client, "/ui/login", {"email": "ada@example.com", "password": STRONG_PASSWORD, "return_to": given}
            )
            assert done.status_code == 303
            assert done.headers["location"] == expected, given


async def test_a_second_factor_is_asked_on_its_own_page_through_an_httponly_cookie(client: httpx.AsyncClient) -> None:
    account = await enrol(client)
    client.cookies.clear()
    first = await submit(
        client, "/ui/login", {"email": account.email, "password": account.password, "return_to": "/ui/account/mfa"}
    )
    assert first.status_code == 303 and first.headers["location"] == "/ui/mfa"
    assert "mfaToken" not in first.headers["location"]
    pending = set_cookies(first)["authgate-mfa"]
    assert pending["path"] == "/ui/" and "httponly" in pending and "accessToken" not in set_cookies(first)
    wrong = await submit(client, "/ui/mfa", {"code": account.app.wrong_code()})
    assert wrong.status_code == 401 and field_error(wrong.text, "code") is not None
    done = await submit(client, "/ui/mfa", {"code": await account.app.code()})
    assert done.status_code == 303 and done.headers["location"] == "/ui/account/mfa"
    cookies = set_cookies(done)
    assert cookies["authgate-mfa"]["max-age"] == "0"
    me = await client.get("/user", headers=bearer(cookies["accessToken"]["value"]))
    assert me.json()["email"] == account.email


async def test_the_second_step_page_without_a_pending_step_goes_to_sign_in(client: httpx.AsyncClient) -> None:
    answer = await open_page(client, "/ui/mfa")
    assert answer.status_code == 303 and answer.headers["location"] == "/ui/login"


async def test_a_new_sign_in_ends_the_session_the_browser_held(client: httpx.AsyncClient) -> None:
    ada = (await register(client)).json()["user"]["id"]
    await register(client, email="bob@example.com")
    admin = await auditor(client)
    client.cookies.clear()
    first = await sign_in(client, "ada@example.com", STRONG_PASSWORD)
    old_access = set_cookies(first)["accessToken"]["value"]
    await submit(
        client, "/ui/login", {"email": "bob@example.com", "password": STRONG_PASSWORD}, page="/ui/login?prompt=login"
    )
    assert (await client.get("/user", headers=bearer(old_access))).status_code == 401
    revoked = (await logs(client, admin, userId=ada, type="session.revoked"))["items"]
    assert [entry["data"]["reason"] for entry in revoked] == ["logout"]


async def test_register_signs_in_or_asks_to_verify_first(make_client, mailbox: Mailbox) -> None:  # type: ignore[no-untyped-def]
    from tests.support.delivery import delivery_settings

    async with make_client(**delivery_settings(mailbox)) as client:
        done = await submit(client, "/ui/register", {"email": "new@example.com", "password": STRONG_PASSWORD})
        assert done.status_code == 303 and done.headers["location"] == "/ui/account"
        assert "accessToken" in set_cookies(done)
        taken = await submit(client, "/ui/register", {"email": "new@example.com", "password": STRONG_PASSWORD})
        assert taken.status_code == 409
        weak = await submit(client, "/ui/register", {"email": "weak@example.com", "password": "short"})
        assert weak.status_code == 400 and field_error(weak.text, "password") is not None
        assert 'value="weak@example.com"' in weak.text
    async with make_client(require_email_verification=True, **delivery_settings(mailbox)) as client:
        asked = await submit(
            client,
            "/ui/register",
            {"email": "later@example.com", "password": STRONG_PASSWORD, "return_to": "/ui/account/mfa"},
        )
        assert asked.status_code == 303 and asked.headers["location"].startswith("/ui/verify-email")
        assert "accessToken" not in set_cookies(asked)
        link = link_in(await mailbox.wait_for("later@example.com"), "/email/verify/")
        opened = await client.get(link, headers={"Accept": "text/html"})
        assert opened.status_code == 303
        assert opened.headers["location"].startswith("http://testserver/ui/verify-email/")
        verified = await client.get(opened.headers["location"], headers=BROWSER)
        assert verified.status_code == 200 and "Your email address is verified" in verified.text
        assert "/ui/login?return_to=http%3A%2F%2Ftestserver%2Fui%2Faccount%2Fmfa" in verified.text
        again = await client.get(opened.headers["location"], headers=BROWSER)
        assert again.status_code == 400  # the link is used up


async def test_forgot_then_reset_then_sign_in(mclient: httpx.AsyncClient, mailbox: Mailbox) -> None:
    await register(mclient)
    mclient.cookies.clear()
    sent = await submit(mclient, "/ui/forgot", {"email": "ada@example.com", "return_to": "/ui/account/sessions"})
    unknown = await submit(mclient, "/ui/forgot", {"email": "nobody@example.com"})
    assert sent.status_code == unknown.status_code == 303
    assert sent.headers["location"] == unknown.headers["location"] == "/ui/forgot/sent"
    link = link_in(await mailbox.wait_for("ada@example.com"), "/password/reset/")
    assert (await mclient.get(link)).json() == {"valid": True}  # an API client keeps its JSON
    opened = await mclient.get(link, headers={"Accept": "text/html,application/xhtml+xml"})
    assert opened.status_code == 303
    page_path = opened.headers["location"].removeprefix("http://testserver")
    assert page_path.startswith("/ui/reset/")
    done = await submit(mclient, page_path, {"password": "Another-Horse-43"})
    assert done.status_code == 303
    assert done.headers["location"].startswith("/ui/login?notice=password_reset")
    notice = await open_page(mclient, done.headers["location"])
    assert 'role="status"' in notice.text
    assert "Your password has been changed." in notice.text
    back = await sign_in(mclient, "ada@example.com", "Another-Horse-43", page=done.headers["location"])
    assert back.headers["location"] == "http://testserver/ui/account/sessions"
    used = await open_page(mclient, page_path)
    assert used.status_code == 400


async def test_a_magic_link_opened_by_a_browser_signs_no_one_in_until_continue(
    mclient: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    await register(mclient)
    mclient.cookies.clear()
    asked = await submit(mclient, "/ui/magic-link", {"email": "ada@example.com"})
    assert asked.headers["location"] == "/ui/magic-link/sent"
    link = link_in(await mailbox.wait_for("ada@example.com"), "/login/magic/")
    opened = await mclient.get(link, headers={"Accept": "text/html"})
    assert opened.status_code == 303 and "accessToken" not in set_cookies(opened)
    page_path = opened.headers["location"].removeprefix("http://testserver")
    for _ in range(2):  # a scanner opening it twice uses nothing
        shown = await open_page(mclient, page_path)
        assert shown.status_code == 200 and "accessToken" not in set_cookies(shown)
    done = await submit(mclient, page_path, {})
    assert done.status_code == 303 and done.headers["location"] == "/ui/account"
    assert "accessToken" in set_cookies(done)
    mclient.cookies.clear()
    assert (await submit(mclient, page_path, {})).status_code == 400


async def test_sign_out_needs_the_button(client: httpx.AsyncClient) -> None:
    await register(client)
    client.cookies.clear()
    signed = await sign_in(client, "ada@example.com", STRONG_PASSWORD)
    access = set_cookies(signed)["accessToken"]["value"]
    shown = await open_page(client, "/ui/logout")
    assert shown.status_code == 200
    assert (await client.get("/user", headers=bearer(access))).status_code == 200
    before = client.cookies.get("authgate-csrf")
    done = await submit(client, "/ui/logout", {})
    assert done.status_code == 303 and done.headers["location"] == "/ui/login?notice=signed_out"
    assert set_cookies(done)["accessToken"]["max-age"] == "0"
    assert set_cookies(done)["authgate-csrf"]["value"] not in ("", before)  # a new CSRF key at sign-out
    assert (await client.get("/user", headers=bearer(access))).status_code == 401


async def test_an_ended_session_is_a_sign_out_on_the_next_page(client: httpx.AsyncClient) -> None:
    await register(client)
    client.cookies.clear()
    signed = await sign_in(client, "ada@example.com", STRONG_PASSWORD)
    access = set_cookies(signed)["accessToken"]["value"]
    refresh = set_cookies(signed)["refreshToken"]["value"]
    assert (await client.post("/logout", headers=bearer(access))).status_code == 200
    client.cookies.set("accessToken", access)  # the browser still holds them: another device signed it out
    client.cookies.set("refreshToken", refresh)
    before = client.cookies.get("authgate-csrf")
    page = await open_page(client, "/ui/login")
    assert page.status_code == 200
    assert set_cookies(page)["accessToken"]["max-age"] == "0"
    assert set_cookies(page)["authgate-csrf"]["value"] not in ("", before)  # a sign-out: a new CSRF key
    client.cookies.set("accessToken", access)
    current = client.cookies.get("authgate-csrf")
    account = await open_page(client, "/ui/account")  # a page for the signed-in only, likewise
    assert account.status_code == 303 and account.headers["location"].startswith("/ui/login?return_to=")
    assert set_cookies(account)["authgate-csrf"]["value"] not in ("", current)


async def test_unknown_pages_are_an_html_404_and_the_switch_turns_them_all_off(make_client) -> None:  # type: ignore[no-untyped-def]
    async with make_client() as client:
        missing = await open_page(client, "/ui/nowhere")
        assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
        assert missing.headers["content-security-policy"] == CSP
        assert (await open_page(client, "/ui/")).headers["location"] == "/ui/login"
        assert (await client.get("/auth/ui/login")).status_code == 404  # the pages live at the root only
    async with make_client(ui=False) as client:
        off = await open_page(client, "/ui/login")
        assert off.status_code == 404 and off.headers["content-type"].startswith("application/problem+json")


async def test_form_bodies_are_taken_under_ui_only(client: httpx.AsyncClient) -> None:
    refused = await client.post("/login", data={"email": "ada@example.com", "password": "x"})
    assert refused.status_code == 415


async def test_the_pages_count_under_the_apis_rate_rules(make_client) -> None:  # type: ignore[no-untyped-def]
    async with make_client(rate_limits="login.ip=2/minute") as client:
        statuses = []
        for _ in range(3):
            answer = await submit(client, "/ui/login", {"email": "ada@example.com", "password": "Wrong-Horse-42"})
            statuses.append(answer.status_code)
    assert statuses == [401, 401, 429]


async def test_an_expired_access_cookie_is_refreshed_by_a_page_of_our_own(make_client) -> None:  # type: ignore[no-untyped-def]
    async with make_client(jwt_expiration_ms=2000) as client:  # a whole second at least (exp is in seconds)
        await register(client)
        client.cookies.clear()
        signed = await sign_in(client, "ada@example.com", STRONG_PASSWORD)
        refresh = set_cookies(signed)["refreshToken"]["value"]
        import asyncio

        await asyncio.sleep(2.1)
        cross = await client.get("/ui/login", headers={"Accept": "text/html", "Sec-Fetch-Site": "cross-site"})
        assert cross.status_code == 303 and cross.headers["location"] == "/ui/account"  # the session is read
        assert "refreshToken" not in set_cookies(cross)  # but not rotated for another site
        own = await client.get("/ui/login", headers=BROWSER)
        assert own.status_code == 303 and own.headers["location"] == "/ui/account"
        assert set_cookies(own)["refreshToken"]["value"] != refresh
        expired = set_cookies(signed)["accessToken"]["value"]
        latest = set_cookies(own)["refreshToken"]["value"]
        # typed in the address bar (`none`), or a browser that sends no fetch metadata: refreshed too
        for typed in ({"Accept": "text/html", "Sec-Fetch-Site": "none"}, {"Accept": "text/html"}):
            client.cookies.clear()
            client.cookies.set("accessToken", expired)
            client.cookies.set("refreshToken", latest)
            loaded = await client.get("/ui/login", headers=typed)
            assert loaded.status_code == 303 and loaded.headers["location"] == "/ui/account"
            rotated = set_cookies(loaded)["refreshToken"]["value"]
            assert rotated != latest
            latest = rotated
        client.cookies.clear()
        client.cookies.set("refreshToken", refresh)  # the rotated-out token names no session for a read
        stale = await client.get("/ui/login", headers={"Accept": "text/html", "Sec-Fetch-Site": "cross-site"})
        assert stale.status_code == 200


async def mailed_code(mailbox: Mailbox, count: int, to: str = "ada@example.com") -> str:
    """The code of the `count`-th message to `to`."""
    return mail_code(await mailbox.wait_for(to, count))


async def test_a_code_second_factor_is_sent_from_the_second_step_and_finishes_the_sign_in(
    mclient: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    token = (await register(mclient)).json()["accessToken"]
    await enable_code_factor(mclient, token, "email", lambda: mailed_code(mailbox, 1))
    mclient.cookies.clear()
    first = await submit(
        mclient, "/ui/login", {"email": "ada@example.com", "password": STRONG_PASSWORD, "return_to": "/ui/account/mfa"}
    )
    assert location(first) == "/ui/mfa"
    step = Page(await open_page(mclient, "/ui/mfa"))
    assert step.one("input", name="send") and "Send a code" in step.text
    assert len(mailbox.to("ada@example.com")) == 1  # nothing is sent until asked for
    sent = await submit(mclient, "/ui/mfa", {}, form_index=1)
    assert location(sent) == "/ui/mfa?notice=code_sent"
    assert Page(await open_page(mclient, location(sent))).notice() == "A code is on its way."
    done = await submit(mclient, "/ui/mfa", {"code": await mailed_code(mailbox, 2)})
    assert location(done) == "/ui/account/mfa"
    me = await mclient.get("/user", headers=bearer(set_cookies(done)["accessToken"]["value"]))
    assert me.json()["email"] == "ada@example.com"


async def test_a_magic_link_keeps_return_to_through_the_second_step(
    mclient: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    account = await enrol(mclient)
    await mclient.post("/email/verify", json={"email": account.email})  # a verified address is not claimed
    verified = await mclient.get(link_in(await mailbox.wait_for(account.email), "/email/verify/"))
    assert verified.status_code == 200, verified.text
    mclient.cookies.clear()
    asked = await submit(
        mclient, "/ui/magic-link", {"email": account.email}, page="/ui/magic-link?return_to=/ui/account/sessions"
    )
    assert location(asked) == "/ui/magic-link/sent"
    link = link_in(await mailbox.wait_for(account.email, 2), "/login/magic/")
    assert "return_to" not in link and "sessions" not in link
    opened = await mclient.get(link, headers={"Accept": "text/html"})
    page_path = location(opened).removeprefix("http://testserver")
    second = await submit(mclient, page_path, {})
    assert location(second) == "/ui/mfa" and "accessToken" not in set_cookies(second)
    done = await submit(mclient, "/ui/mfa", {"code": await account.app.code()})
    assert location(done) == "http://testserver/ui/account/sessions"
    assert "accessToken" in set_cookies(done)


async def test_the_error_page_answers_with_the_status_the_api_gives_the_code(client: httpx.AsyncClient) -> None:
    cases = {
        "identity_not_linked": (409, "No account is linked to this provider account."),
        "identity_taken": (409, "This provider account is linked to another account."),
        "passkey_exists": (409, "This passkey is already registered."),
        "passkey_limit": (409, "This account has as many passkeys as it may have."),
        "email_taken": (409, "An account with this email address already exists."),
        "username_taken": (409, "This username is taken."),
        "token_expired": (401, "The link has expired."),
        "reauthentication_required": (401, "Confirm it is you to continue."),
        "payload_too_large": (413, "The form is too large."),
        "account_locked": (429, "Too many failed attempts"),
        "not_found": (404, "There is nothing here."),
        "no_such_code": (400, "Something went wrong."),
        "": (400, "Something went wrong."),
    }
    for code, (status, message) in cases.items():
        page = Page(await open_page(client, f"/ui/error?code={code}"))
        assert page.status == status, code
        assert message in page.error_summary(), code
    assert (await open_page(client, "/ui/error")).status_code == 400


async def test_username_mode_signs_in_by_username_and_counts_attempts_by_it(make_client) -> None:  # type: ignore[no-untyped-def]
    async with make_client(ui_identifier="username", rate_limits="login.identifier=3/minute") as client:
        await register(client, username="ada")
        client.cookies.clear()
        form = Page(await open_page(client, "/ui/login?login_hint=ada"))
        assert form.input("username")["autocomplete"] == "username webauthn"
        assert form.input("username")["value"] == "ada" and not form.all("input", name="email")
        done = await submit(client, "/ui/login", {"username": "ada", "password": STRONG_PASSWORD})
        assert location(done) == "/ui/account"
        client.cookies.clear()
        statuses = []
        for n in range(3):  # a different address beside the username each time counts nowhere else
            wrong = {"username": "ada", "email": f"junk{n}@example.com", "password": "Wrong-Horse-42"}
            statuses.append((await submit(client, "/ui/login", wrong)).status_code)
        assert statuses == [401, 401, 429]


async def test_a_magic_link_is_asked_for_alike_for_a_known_and_an_unknown_address(
    mclient: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    await register(mclient)
    mclient.cookies.clear()
    known = await submit(mclient, "/ui/magic-link", {"email": "ada@example.com"})
    unknown = await submit(mclient, "/ui/magic-link", {"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 303
    assert known.content == unknown.content
    assert location(known) == location(unknown) == "/ui/magic-link/sent"
    sent = await open_page(mclient, "/ui/magic-link/sent")
    assert sent.status_code == 200 and "Check your email" in sent.text
    await mailbox.wait_for("ada@example.com")
    assert mailbox.to("nobody@example.com") == []


async def test_verify_email_sends_the_link_again_alike_for_any_address(
    mclient: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    await register(mclient)
    mclient.cookies.clear()
    before = len(mailbox.to("ada@example.com"))
    page = "/ui/verify-email?return_to=/ui/account/mfa"
    known = await submit(mclient, "/ui/verify-email", {"email": "ada@example.com"}, page=page)
    unknown = await submit(mclient, "/ui/verify-email", {"email": "nobody@example.com"}, page=page)
    back = "/ui/verify-email?return_to=%2Fui%2Faccount%2Fmfa&notice=verification_sent"
    assert location(known) == location(unknown) == back
    assert Page(await open_page(mclient, back)).notice() == "If the address needs verifying, a new link is on its way."
    link_in(await mailbox.wait_for("ada@example.com", before + 1), "/email/verify/")
    assert mailbox.to("nobody@example.com") == []


async def test_sign_out_goes_to_return_to(client: httpx.AsyncClient) -> None:
    await register(client)
    client.cookies.clear()
    await sign_in(client, "ada@example.com", STRONG_PASSWORD)
    done = await submit(client, "/ui/logout", {}, page="/ui/logout?return_to=/ui/magic-link")
    assert location(done) == "/ui/magic-link"
    assert set_cookies(done)["accessToken"]["max-age"] == "0"


async def test_the_start_page_sends_to_the_account_or_to_sign_in(client: httpx.AsyncClient) -> None:
    assert location(await open_page(client, "/ui/")) == "/ui/login"
    await register(client)
    client.cookies.clear()
    await sign_in(client, "ada@example.com", STRONG_PASSWORD)
    assert location(await open_page(client, "/ui/")) == "/ui/account"


async def test_the_sign_in_page_shows_a_known_error_code_and_ignores_an_unknown_one(
    client: httpx.AsyncClient,
) -> None:
    known = Page(await open_page(client, "/ui/login?error=identity_not_linked"))
    assert known.status == 200 and "No account is linked to this provider account." in known.error_summary()
    unknown = Page(await open_page(client, "/ui/login?error=no_such_code"))
    assert unknown.status == 200 and not unknown.has_error_summary()


async def test_an_allow_list_never_refuses_a_return_to_of_our_own_in_an_emailed_flow(
    messaging_client: MessagingClientFactory, mailbox: Mailbox
) -> None:
    """With `AUTHGATE_REDIRECT_ALLOWLIST` naming only an app, a page of this server is still a
    fine `return_to` for the flows that go through a mailed link (forgot, magic link, register
    with verification): it travels with the link, and the flow ends there."""
    async with messaging_client(
        redirect_allowlist="https://app.example.com", require_email_verification=True
    ) as client:
        await register(client)  # ada@example.com, not verified
        client.cookies.clear()
        back = "/ui/account/sessions"
        for path, fields in [
            ("/ui/forgot", {"email": "ada@example.com"}),
            ("/ui/magic-link", {"email": "ada@example.com"}),
            ("/ui/register", {"email": "bea@example.com", "password": STRONG_PASSWORD}),
            ("/ui/verify-email", {"email": "ada@example.com"}),
        ]:
            answer = await submit(client, path, {**fields, "return_to": back})
            assert answer.status_code == 303, (path, answer.status_code, answer.text[:1500])
        await mailbox.wait_for("ada@example.com", count=4)  # verification, reset, magic link, verification
        reset = next(
            link_in(m, "/password/reset/") for m in mailbox.to("ada@example.com") if "/password/reset/" in m.as_string()
        )
        opened = await client.get(reset, headers={"Accept": "text/html"})
        page_path = opened.headers["location"].removeprefix("http://testserver")
        done = await submit(client, page_path, {"password": "Another-Horse-43"})
        assert done.status_code == 303
        assert done.headers["location"].startswith("/ui/login?"), done.headers["location"]
        assert httpx.URL(done.headers["location"]).params["return_to"] == "http://testserver" + back
