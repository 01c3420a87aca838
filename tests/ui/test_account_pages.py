"""The account pages (`/ui/account…`), driven as a browser drives them: each form's success (a
303 and its effect, seen through the API), each form's refusal (the form again with the API's
status, the field marked and linked from the error summary), the CSRF checks, and the redirects
to sign in and to re-authenticate."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import httpx
import pytest

from tests.support.app import ClientFactory
from tests.support.audit import auditor, logs
from tests.support.http import STRONG_PASSWORD, bearer, from_address, register, set_cookies
from tests.support.mail import Mailbox, code_in, mail_code
from tests.support.mfa import Authenticator
from tests.support.oidc_provider import TestProvider
from tests.support.sms import PHONE, SmsReceiver
from tests.support.social import SocialClientFactory, callback_from_provider
from tests.support.social import sign_in as social_sign_in
from tests.support.ui import ORIGIN, SAME_ORIGIN, Page, api_headers, location, open_page, post_form, sign_in
from tests.support.webauthn import SoftAuthenticator

EMAIL = "ada@example.com"
PAGES = [
    "/ui/account",
    "/ui/account/password",
    "/ui/account/mfa",
    "/ui/account/mfa/totp",
    "/ui/account/mfa/recovery-codes",
    "/ui/account/mfa/disable",
    "/ui/account/mfa/code",
    "/ui/account/passkeys",
    "/ui/account/sessions",
    "/ui/account/linked",
]


async def view(client: httpx.AsyncClient, path: str) -> Page:
    return Page(await open_page(client, path))


async def send(
    client: httpx.AsyncClient, path: str, data: dict[str, str] | None = None, *, on: str | None = None
) -> Page:
    """Post the form to `path` as a browser would, from the page `on` (by default `path`)."""
    shown = await view(client, on or path)
    assert shown.status == 200, (on or path, shown.status, shown.text[:1000])
    return await post_form(client, path, data or {}, token=shown.csrf_token())


async def signed_in(client: httpx.AsyncClient, email: str = EMAIL, **extra: Any) -> dict[str, Any]:
    """A new account, signed in through the pages; the register answer's user object."""
    user: dict[str, Any] = (await register(client, email=email, **extra)).json()["user"]
    client.cookies.clear()
    await sign_in(client, email, STRONG_PASSWORD)
    return user


async def me(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/user", headers=api_headers(client))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def assert_refused_on(page: Page, status: int, field: str) -> None:
    """The form again with `status`, `field` marked invalid and described, the summary linking it."""
    assert page.status == status, (page.status, page.text[:2000])
    assert page.has_error_summary()
    assert field in page.summary_links(), page.summary_links()
    assert page.invalid_fields() == {field}, page.invalid_fields()
    marked = page.one("input", name=field)
    assert marked["id"] == field
    assert f"{field}-error" in marked["aria-describedby"].split()
    assert page.text_of(f"{field}-error")


def assert_markup(page: Page) -> None:
    """The markup rules every page keeps: one h1, a label for every field whose id is its name,
    no inline script or style, unique ids, forms that post with a CSRF token."""
    assert len(page.all("h1")) == 1
    ids = [a["id"] for _, a in page.parsed.elements if "id" in a]
    assert len(ids) == len(set(ids)), ids
    labels = {a.get("for") for a in page.all("label")}
    for field in page.all("input"):
        if field.get("type") == "hidden":
            continue
        assert field.get("id") == field.get("name"), field
        assert field["id"] in labels, field
    assert "style=" not in page.text
    assert all("src" in script for script in page.all("script"))
    assert not re.search(r"\son[a-z]+=", page.text)
    for form in page.all("form"):
        assert form.get("method") == "post"
    assert page.text.count('name="csrf_token"') == len(page.all("form"))
    for table in re.findall(r"<table.*?</table>", page.text, re.S):
        assert "<caption>" in table
        assert '<th scope="col">' in table


# --- who may see them ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", [*PAGES, "/ui/account/sessions?sort=recent"])
async def test_anonymous_is_sent_to_sign_in_and_back(client: httpx.AsyncClient, path: str) -> None:
    page = await view(client, path)
    assert location(page) == "/ui/login?" + httpx.QueryParams({"return_to": path}).__str__()


async def test_every_account_page_keeps_the_markup_rules(client: httpx.AsyncClient) -> None:
    await signed_in(client)
    for path in PAGES:
        page = await view(client, path)
        assert page.status == 200, (path, page.status)
        assert page.response.headers["cache-control"] == "no-store"
        assert "form-action 'self'" in page.response.headers["content-security-policy"]
        assert_markup(page)


# --- details ------------------------------------------------------------------------------------------


async def test_details_show_the_email_and_save_the_profile(client: httpx.AsyncClient) -> None:
    await signed_in(client)
    page = await view(client, "/ui/account")
    assert EMAIL in page.text
    resend = page.one("form", action="/ui/verify-email")  # not verified yet: the link again
    assert resend
    assert page.input("name")["autocomplete"] == "name"
    assert page.input("phone")["autocomplete"] == "tel"

    done = await send(client, "/ui/account", {"name": "Ada Lovelace", "username": "ada", "phone": "+14155550100"})
    assert location(done) == "/ui/account?notice=profile_saved"
    user = await me(client)
    assert (user["name"], user["username"], user["phone"]) == ("Ada Lovelace", "ada", "+14155550100")
    shown = await view(client, location(done))
    assert shown.notice() == "Your details have been saved."
    assert shown.input("name")["value"] == "Ada Lovelace"


async def test_a_taken_username_is_the_form_again_with_409(client: httpx.AsyncClient) -> None:
    await register(client, email="grace@example.com", username="grace")
    await signed_in(client)
    refused = await send(client, "/ui/account", {"name": "Ada", "username": "grace", "phone": ""})
    assert_refused_on(refused, 409, "username")
    assert refused.input("username")["value"] == "grace"  # values are kept
    assert (await me(client))["username"] is None


async def test_a_malformed_phone_is_the_form_again_with_400(client: httpx.AsyncClient) -> None:
    await signed_in(client)
    refused = await send(client, "/ui/account", {"name": "Ada", "username": "", "phone": "not a phone"})
    assert_refused_on(refused, 400, "phone")
    assert (await me(client))["name"] is None  # nothing saved


async def test_a_new_phone_needs_a_recent_proof(make_client: ClientFactory) -> None:
    async with make_client(reauth_max_age_seconds=0) as client:
        await signed_in(client)
        sent = await send(client, "/ui/account", {"phone": "+14155550100"})
        assert location(sent) == "/ui/reauth?return_to=%2Fui%2Faccount"
        assert (await me(client))["phone"] is None


# --- password -----------------------------------------------------------------------------------------


async def test_changing_the_password_ends_the_other_sessions(client: httpx.AsyncClient) -> None:
    await signed_in(client)
    async with from_address(client, "198.51.100.9") as elsewhere:
        other = (await elsewhere.post("/login", json={"email": EMAIL, "password": STRONG_PASSWORD})).json()
    page = await view(client, "/ui/account/password")
    assert page.input("currentPassword")["autocomplete"] == "current-password"
    assert page.input("password")["autocomplete"] == "new-password"
    assert "New password" in page.text

    done = await send(
        client, "/ui/account/password", {"currentPassword": STRONG_PASSWORD, "password": "Brand-New-Horse-7"}
    )
    assert location(done) == "/ui/account?notice=password_changed"
    assert (await client.get("/profile", headers=bearer(other["accessToken"]))).status_code == 401
    assert (await client.get("/profile", headers=api_headers(client))).status_code == 200  # this one stays
    fresh = await client.post("/login", json={"email": EMAIL, "password": "Brand-New-Horse-7"})
    assert fresh.status_code == 200


async def test_a_wrong_current_password_is_401_on_that_field(client: httpx.AsyncClient) -> None:
    await signed_in(client)
    refused = await send(
        client, "/ui/account/password", {"currentPassword": "not-it-at-all", "password": "Brand-New-Horse-7"}
    )
    assert_refused_on(refused, 401, "currentPassword")
    assert refused.text_of("currentPassword-error") == "Your current password is not right."
    assert "not-it-at-all" not in refused.text and "Brand-New-Horse-7" not in refused.text  # no secret shown again
    assert (await client.post("/login", json={"email": EMAIL, "password": STRONG_PASSWORD})).status_code == 200


async def test_a_weak_new_password_is_400_on_that_field(client: httpx.AsyncClient) -> None:
    await signed_in(client)
    refused = await send(client, "/ui/account/password", {"currentPassword": STRONG_PASSWORD, "password": "short"})
    assert_refused_on(refused, 400, "password")


# --- the authenticator app ------------------------------------------------------------------------------


async def set_up_totp(client: httpx.AsyncClient, **extra: str) -> tuple[Authenticator, list[str]]:
    """Through the setup page: the app and the recovery codes the answer showed."""
    page = await view(client, "/ui/account/mfa/totp")
    assert page.status == 200, page.text[:1000]
    secret = page.input("secret")["value"]
    app = Authenticator(secret)
    done = await post_form(
        client, "/ui/account/mfa/totp", {"secret": secret, "code": await app.code(), **extra}, token=page.csrf_token()
    )
    assert done.status == 200, done.text[:2000]
    return app, done.list_items("recovery-codes")


async def test_totp_setup_shows_the_qr_code_and_then_the_recovery_codes_once(client: httpx.AsyncClient) -> None:
    await signed_in(client)
    page = await view(client, "/ui/account/mfa/totp")
    image = page.one("img", alt="QR code for your authenticator app")
    assert image["src"].startswith("data:image/svg+xml")
    secret = page.input("secret")
    assert "readonly" in secret and re.fullmatch(r"[A-Z2-7]{16,}", secret["value"])
    assert 'for="secret">Setup key<' in page.text
    assert page.input("code")["autocomplete"] == "one-time-code"
    app = Authenticator(secret["value"])

    wrong = await post_form(
        client, "/ui/account/mfa/totp", {"secret": secret["value"], "code": app.wrong_code()}, token=page.csrf_token()
    )
    assert_refused_on(wrong, 401, "code")
    assert wrong.input("secret")["value"] == secret["value"]  # the same setup, to try again
    assert (await me(client))["mfaEnabled"] is False

    done = await post_form(
        client, "/ui/account/mfa/totp", {"secret": secret["value"], "code": await app.code()}, token=page.csrf_token()
    )
    assert done.status == 200
    assert done.response.headers["cache-control"] == "no-store"
    codes = done.list_items("recovery-codes")
    assert len(codes) == 10 and len(set(codes)) == 10
    assert (await me(client))["mfaEnabled"] is True

    for path in ("/ui/account/mfa/recovery-codes", "/ui/account/mfa"):  # never shown again
        again = await view(client, path)
        assert again.status == 200
        assert 'id="recovery-codes"' not in again.text
        assert not any(code in again.text for code in codes)
    overview = await view(client, "/ui/account/mfa")
    assert "On" in overview.text_of("factor-totp")
    assert "10 left" in overview.text_of("factor-recovery")
    assert location(await view(client, "/ui/account/mfa/totp")) == "/ui/account/mfa"  # already on

    left = await view(client, "/ui/account/mfa/recovery-codes")
    assert "10 recovery codes left" in left.text_of("codes-left")


async def test_totp_setup_after_an_old_sign_in_asks_a_proof_first(make_client: ClientFactory) -> None:
    async with make_client(reauth_max_age_seconds=0) as client:
        await signed_in(client)
        first = await view(client, "/ui/account/mfa/totp")
        assert location(first) == "/ui/reauth?return_to=%2Fui%2Faccount%2Fmfa%2Ftotp"
        proof = await view(client, location(first))
        proved = await post_form(
            client,
            "/ui/reauth",
            {"currentPassword": STRONG_PASSWORD, "return_to": "/ui/account/mfa/totp"},
            token=proof.csrf_token(),
        )
        assert location(proved) == "/ui/account/mfa/totp"
        setup = await view(client, "/ui/account/mfa/totp")
        assert setup.status == 200
        secret = setup.input("secret")["value"]
        assert setup.input("currentPassword")  # the proof went to the setup: the enable asks it again
        app = Authenticator(secret)
        done = await post_form(
            client,
            "/ui/account/mfa/totp",
            {"secret": secret, "code": await app.code(), "currentPassword": STRONG_PASSWORD},
            token=setup.csrf_token(),
        )
        assert done.status == 200, done.text[:2000]
        assert len(done.list_items("recovery-codes")) == 10
        assert (await me(client))["mfaEnabled"] is True


async def test_new_recovery_codes_are_shown_once_and_replace_the_old_ones(client: httpx.AsyncClient) -> None:
    await signed_in(client)
    app, old = await set_up_totp(client)
    used = await send(client, "/ui/account/mfa/disable", {"code": app.wrong_code()})
    assert used.status == 401  # (a refusal spends no recovery code)

    refused = await send(client, "/ui/account/mfa/recovery-codes", {"code": app.wrong_code()})
    assert_refused_on(refused, 401, "code")
    assert "10 recovery codes left" in refused.text_of("codes-left")

    renewed = await send(client, "/ui/account/mfa/recovery-codes", {"code": old[0]})
    assert renewed.status == 200, renewed.text[:2000]
    assert renewed.response.headers["cache-control"] == "no-store"
    codes = renewed.list_items("recovery-codes")
    assert len(codes) == 10 and not set(codes) & set(old)

    again = await view(client, "/ui/account/mfa/recovery-codes")  # a reload shows how many, not which
    assert "10 recovery codes left" in again.text_of("codes-left")
    assert 'id="recovery-codes"' not in again.text and not any(code in again.text for code in codes)
    stale = await send(client, "/ui/account/mfa/disable", {"code": old[1]})
    assert stale.status == 401  # the earlier codes no longer work
    done = await send(client, "/ui/account/mfa/disable", {"code": codes[0]})
    assert location(done) == "/ui/account/mfa?notice=mfa_disabled"


async def test_new_recovery_codes_without_an_app_are_409(client: httpx.AsyncClient) -> None:
    await signed_in(client)
    page = await view(client, "/ui/account/mfa/recovery-codes")
    assert not page.all("input", name="code")  # nothing to renew: a link to set one up instead
    token = (await view(client, "/ui/account/mfa/disable")).csrf_token()  # a form posted anyway
    refused = await post_form(client, "/ui/account/mfa/recovery-codes", {"code": "123456"}, token=token)
    assert refused.status == 409
    assert refused.has_error_summary()


async def test_turning_the_app_off_needs_a_current_code(client: httpx.AsyncClient) -> None:
    await signed_in(client)
    app, codes = await set_up_totp(client)
    refused = await send(client, "/ui/account/mfa/disable", {"code": app.wrong_code()})
    assert_refused_on(refused, 401, "code")
    assert (await me(client))["mfaEnabled"] is True

    done = await send(client, "/ui/account/mfa/disable", {"code": codes[0]})
    assert location(done) == "/ui/account/mfa?notice=mfa_disabled"
    assert (await me(client))["mfaEnabled"] is False
    shown = await view(client, location(done))
    assert shown.notice() == "The authenticator app has been turned off."
    assert "Off" in shown.text_of("factor-totp")


async def test_codes_by_email_turned_on_and_off_from_the_pages(mclient: httpx.AsyncClient, mailbox: Mailbox) -> None:
    await signed_in(mclient)
    mfa = await view(mclient, "/ui/account/mfa")
    assert "Off" in mfa.text_of("factor-code")
    start = await view(mclient, "/ui/account/mfa/code")
    assert start.status == 200
    assert [o["value"] for o in start.all("option")] == ["email"]  # no SMS provider here

    sent = await send(mclient, "/ui/account/mfa/code/send", {"channel": "email"}, on="/ui/account/mfa/code")
    assert location(sent) == "/ui/account/mfa/code?sent=email&notice=code_sent"
    entry = await view(mclient, location(sent))
    assert entry.notice() == "A code is on its way."
    code = mail_code(await mailbox.wait_for(EMAIL))
    wrong = await post_form(
        mclient, "/ui/account/mfa/code", {"channel": "email", "code": "000000"}, token=entry.csrf_token()
    )
    assert_refused_on(wrong, 401, "code")
    assert wrong.input("channel")["value"] == "email"  # the code's field again, for another try
    done = await post_form(
        mclient, "/ui/account/mfa/code", {"channel": "email", "code": code}, token=entry.csrf_token()
    )
    assert location(done) == "/ui/account/mfa?notice=code_factor_on"
    shown = await view(mclient, location(done))
    assert "On, by email" in shown.text_of("factor-code")
    assert (await me(mclient))["mfaEnabled"] is True
    assert location(await view(mclient, "/ui/account/mfa/code")) == "/ui/account/mfa/code/disable"

    # Off: a code sent where the factor sends them is the proof.
    off = await send(mclient, "/ui/account/mfa/code/disable/send", on="/ui/account/mfa/code/disable")
    assert location(off) == "/ui/account/mfa/code/disable?notice=code_sent"
    code = mail_code(await mailbox.wait_for(EMAIL, count=2))
    refused = await send(mclient, "/ui/account/mfa/code/disable", {"code": "000000"})
    assert_refused_on(refused, 401, "code")
    ended = await send(mclient, "/ui/account/mfa/code/disable", {"code": code})
    assert location(ended) == "/ui/account/mfa?notice=code_factor_off"
    assert (await me(mclient))["mfaEnabled"] is False
    assert "Off" in (await view(mclient, "/ui/account/mfa")).text_of("factor-code")


async def test_one_code_posted_twice_at_once_turns_codes_on_once(mclient: httpx.AsyncClient, mailbox: Mailbox) -> None:
    """The code that turns the factor on is used once, under parallel posts of the same form."""
    await signed_in(mclient)
    sent = await send(mclient, "/ui/account/mfa/code/send", {"channel": "email"}, on="/ui/account/mfa/code")
    entry = await view(mclient, location(sent))
    code = mail_code(await mailbox.wait_for(EMAIL))
    posts = [
        post_form(mclient, "/ui/account/mfa/code", {"channel": "email", "code": code}, token=entry.csrf_token())
        for _ in range(6)
    ]
    answers = await asyncio.gather(*posts)
    assert sorted(a.status for a in answers) == [303] + [401] * 5, [a.status for a in answers]
    trail = await logs(mclient, await auditor(mclient), type="mfa.enabled")
    assert len(trail["items"]) == 1


async def test_codes_by_sms_go_to_the_accounts_own_phone(
    messaging_client: Any, sms: SmsReceiver, mailbox: Mailbox
) -> None:
    async with messaging_client() as client:
        await signed_in(client, phone=PHONE)
        start = await view(client, "/ui/account/mfa/code")
        assert [o["value"] for o in start.all("option")] == ["email", "sms"]
        sent = await send(client, "/ui/account/mfa/code/send", {"channel": "sms"}, on="/ui/account/mfa/code")
        entry = await view(client, location(sent))
        assert PHONE in entry.text
        code = code_in(await sms.wait_for(PHONE))
        done = await post_form(
            client, "/ui/account/mfa/code", {"channel": "sms", "code": code}, token=entry.csrf_token()
        )
        assert location(done) == "/ui/account/mfa?notice=code_factor_on"
        assert "On, by SMS" in (await view(client, "/ui/account/mfa")).text_of("factor-code")
        assert (await me(client))["phoneVerified"] is True  # the code proved the phone too


async def test_a_channel_that_is_not_offered_is_400_on_its_field(mclient: httpx.AsyncClient) -> None:
    await signed_in(mclient)
    refused = await send(mclient, "/ui/account/mfa/code/send", {"channel": "pigeon"}, on="/ui/account/mfa/code")
    assert refused.status == 400
    assert refused.invalid_fields() == {"channel"}


async def test_codes_by_email_need_a_recent_proof_first(messaging_client: Any) -> None:
    async with messaging_client(reauth_max_age_seconds=0) as client:
        await signed_in(client)
        first = await view(client, "/ui/account/mfa/code")
        assert location(first) == "/ui/reauth?return_to=%2Fui%2Faccount%2Fmfa%2Fcode"


async def test_turning_off_an_app_that_is_not_on_is_409(client: httpx.AsyncClient) -> None:
    await signed_in(client)
    refused = await send(client, "/ui/account/mfa/disable", {"code": "123456"})
    assert refused.status == 409
    assert refused.has_error_summary()


# --- passkeys -----------------------------------------------------------------------------------------------


async def add_passkey(client: httpx.AsyncClient, device: SoftAuthenticator, name: str = "Work laptop") -> Page:
    """As passkey.js does: the options with the form's token, the ceremony, the form posted."""
    page = await view(client, "/ui/account/passkeys")
    token = page.csrf_token()
    options = await client.post(
        "/ui/passkey/options", data={"purpose": "register", "csrf_token": token}, headers=SAME_ORIGIN
    )
    assert options.status_code == 200, options.text
    started = options.json()
    credential = device.create(started["options"])
    return await post_form(
        client,
        "/ui/account/passkeys",
        {"name": name, "challengeId": started["challengeId"], "credential": json.dumps(credential)},
        token=token,
    )


async def passkeys(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    response = await client.get("/passkeys", headers=api_headers(client))
    assert response.status_code == 200, response.text
    listed: list[dict[str, Any]] = response.json()
    return listed


async def test_adding_renaming_and_deleting_a_passkey(client: httpx.AsyncClient) -> None:
    await signed_in(client)
    page = await view(client, "/ui/account/passkeys")
    button = page.one("button", type="button")
    assert button["data-passkey"] == "register"
    assert page.one("input", name="challengeId")["type"] == "hidden"

    added = await add_passkey(client, SoftAuthenticator())
    assert location(added) == "/ui/account/passkeys?notice=passkey_added"
    [passkey] = await passkeys(client)
    assert passkey["name"] == "Work laptop"
    listed = await view(client, "/ui/account/passkeys")
    assert "Work laptop" in listed.text_of("passkeys")

    path = f"/ui/account/passkeys/{passkey['id']}/rename"
    blank = await send(client, path, {"name": ""})
    assert_refused_on(blank, 400, "name")
    renamed = await send(client, path, {"name": "Phone"})
    assert location(renamed) == "/ui/account/passkeys?notice=passkey_renamed"
    assert [p["name"] for p in await passkeys(client)] == ["Phone"]

    deleted = await send(client, f"/ui/account/passkeys/{passkey['id']}/delete", on="/ui/account/passkeys")
    assert location(deleted) == "/ui/account/passkeys?notice=passkey_removed"
    assert await passkeys(client) == []


async def test_a_malformed_credential_is_the_form_again_with_400(client: httpx.AsyncClient) -> None:
    await signed_in(client)
    for credential in ("{not json", json.dumps(["a list"]), "x" * (16 * 1024 + 1)):
        refused = await send(
            client, "/ui/account/passkeys", {"name": "Key", "challengeId": "abc", "credential": credential}
        )
        assert refused.status == 400, refused.text[:1000]
        assert refused.has_error_summary()
        assert refused.input("name")["value"] == "Key"
    assert await passkeys(client) == []


async def test_someone_elses_passkey_is_404(client: httpx.AsyncClient) -> None:
    await signed_in(client)
    missing = await view(client, "/ui/account/passkeys/no-such-id/rename")
    assert missing.status == 404
    gone = await send(client, "/ui/account/passkeys/no-such-id/delete", on="/ui/account/passkeys")
    assert gone.status == 404


async def test_deleting_a_passkey_needs_a_recent_proof(make_client: ClientFactory) -> None:
    async with make_client(reauth_max_age_seconds=0) as client:
        user = await signed_in(client)
        device = SoftAuthenticator()
        token = (await client.post("/login", json={"email": EMAIL, "password": STRONG_PASSWORD})).json()["token"]
        options = await client.post(
            "/passkeys/register/options", headers=bearer(token), json={"currentPassword": STRONG_PASSWORD}
        )
        started = options.json()
        made = await client.post(
            "/passkeys/register/verify",
            headers=bearer(token),
            json={"challengeId": started["challengeId"], "credential": device.create(started["options"])},
        )
        assert made.status_code == 201, made.text
        sent = await send(client, f"/ui/account/passkeys/{made.json()['id']}/delete", on="/ui/account/passkeys")
        assert location(sent) == "/ui/reauth?return_to=%2Fui%2Faccount%2Fpasskeys"
        assert len(await passkeys(client)) == 1
        assert user["id"]


# --- sessions ---------------------------------------------------------------------------------------------


def test_devices_are_named_from_the_user_agent() -> None:
    from authgate.ui.routes.account import device_of

    chrome_linux = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
    edge = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36 Edg/126.0"
    iphone = (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Version/17.5 Mobile Safari/604.1"
    )
    android = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537.36"
    firefox_mac = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:127.0) Gecko/20100101 Firefox/127.0"
    assert device_of(chrome_linux) == ("Chrome", "Linux")
    assert device_of(edge) == ("Edge", "Windows")
    assert device_of(iphone) == ("Safari", "iOS")
    assert device_of(android) == ("Chrome", "Android")
    assert device_of(firefox_mac) == ("Firefox", "macOS")
    assert device_of("curl/8.5.0") == ("curl", None)
    assert device_of(None) == (None, None)
    assert device_of("something else") == (None, None)


CHROME_LINUX = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"


async def other_session(client: httpx.AsyncClient, host: str = "198.51.100.9") -> str:
    """A session of the same account from another device; its access token."""
    async with from_address(client, host) as elsewhere:
        response = await elsewhere.post(
            "/login", json={"email": EMAIL, "password": STRONG_PASSWORD}, headers={"User-Agent": CHROME_LINUX}
        )
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token


async def test_sessions_are_listed_and_signed_out_one_by_one(client: httpx.AsyncClient) -> None:
    await signed_in(client)
    other = await other_session(client)
    page = await view(client, "/ui/account/sessions")
    table = page.text_of("sessions")
    assert "Chrome on Linux" in table and "198.51.100.9" in table and "This device" in table
    assert table.count("This device") == 1

    sessions = (await client.get("/sessions", headers=bearer(other))).json()
    other_id = next(s["id"] for s in sessions if s["current"])
    done = await send(client, f"/ui/account/sessions/{other_id}/revoke", on="/ui/account/sessions")
    assert location(done) == "/ui/account/sessions?notice=session_ended"
    assert (await client.get("/profile", headers=bearer(other))).status_code == 401
    assert (await client.get("/profile", headers=api_headers(client))).status_code == 200

    again = await send(client, f"/ui/account/sessions/{other_id}/revoke", on="/ui/account/sessions")
    assert again.status == 404  # DELETE /sessions/{id}'s rules: an ended session is unknown
    assert again.has_error_summary()


async def test_signing_out_every_other_session(client: httpx.AsyncClient) -> None:
    await signed_in(client)
    first, second = await other_session(client), await other_session(client, "198.51.100.10")
    done = await send(client, "/ui/account/sessions/others", on="/ui/account/sessions")
    assert location(done) == "/ui/account/sessions?notice=sessions_ended"
    for token in (first, second):
        assert (await client.get("/profile", headers=bearer(token))).status_code == 401
    assert (await client.get("/profile", headers=api_headers(client))).status_code == 200


async def test_signing_out_this_device_from_the_list_is_a_sign_out(client: httpx.AsyncClient) -> None:
    await signed_in(client)
    token = client.cookies.get("accessToken")
    assert token
    current = next(s["id"] for s in (await client.get("/sessions", headers=bearer(token))).json() if s["current"])
    done = await send(client, f"/ui/account/sessions/{current}/revoke", on="/ui/account/sessions")
    assert location(done) == "/ui/login?notice=signed_out"
    cleared = set_cookies(done.response)
    assert cleared["accessToken"]["max-age"] == "0" and cleared["refreshToken"]["max-age"] == "0"
    assert (await client.get("/profile", headers=bearer(token))).status_code == 401
    assert location(await view(client, "/ui/account")).startswith("/ui/login?return_to=")


# --- linked providers ---------------------------------------------------------------------------------------


async def test_linking_a_provider_from_the_page(social: SocialClientFactory, op: TestProvider) -> None:
    op.login_as("ada-at-acme", email="ada.acme@example.com", email_verified=True)
    async with social() as client:
        await signed_in(client)
        page = await view(client, "/ui/account/linked")
        policy = page.response.headers["content-security-policy"]
        started = await post_form(client, "/ui/account/linked/link", {"provider": "acme"}, token=page.csrf_token())
        at_provider = location(started)
        origin = re.match(r"https?://[^/]+", at_provider)
        assert origin is not None and origin.group(0) in policy  # form-action lets the redirect through
        assert "oauthBrowser" in set_cookies(started.response)

        back = await client.get(await callback_from_provider(at_provider))
        assert back.status_code == 303, back.text
        assert back.headers["location"] == f"{ORIGIN}/ui/account/linked?notice=linked"
        linked = await view(client, "/ui/account/linked")
        assert "Acme" in linked.text_of("identities")
        assert [i["provider"] for i in (await me(client))["identities"]] == ["acme"]

        unlinked = await send(client, "/ui/account/linked/acme/unlink", on="/ui/account/linked")
        assert location(unlinked) == "/ui/account/linked?notice=unlinked"
        assert (await me(client))["identities"] == []


async def test_unlinking_the_last_way_in_is_409(social: SocialClientFactory, op: TestProvider) -> None:
    op.login_as("grace-at-acme", email="grace@example.com", email_verified=True)
    async with social() as client:
        signed = await social_sign_in(client)  # an account made by the provider: no password
        assert signed.status_code in (200, 302), signed.text
        refused = await send(client, "/ui/account/linked/acme/unlink", on="/ui/account/linked")
        assert refused.status == 409
        assert "last way to sign in" in refused.error_summary()
        assert [i["provider"] for i in (await me(client))["identities"]] == ["acme"]


async def test_linking_needs_a_recent_proof(social: SocialClientFactory) -> None:
    async with social(reauth_max_age_seconds=0) as client:
        await signed_in(client)
        sent = await send(client, "/ui/account/linked/link", {"provider": "acme"}, on="/ui/account/linked")
        assert location(sent) == "/ui/reauth?return_to=%2Fui%2Faccount%2Flinked"


# --- CSRF ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "with_token"),
    [
        (SAME_ORIGIN, False),  # no token
        ({"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}, True),
        ({"Origin": "https://evil.example"}, True),
        ({"Origin": "null"}, True),
        ({"Sec-Fetch-Site": "same-site"}, True),
    ],
)
async def test_a_forged_post_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, headers: dict[str, str], with_token: bool
) -> None:
    await signed_in(client)
    page = await view(client, "/ui/account")
    refused = await post_form(
        client,
        "/ui/account",
        {"name": "Mallory"},
        token=page.csrf_token() if with_token else None,
        headers=headers,
    )
    assert refused.status == 403
    assert "This form has expired" in refused.text
    assert (await me(client))["name"] is None
    allowed = await post_form(client, "/ui/account", {"name": "Ada"}, token=page.csrf_token())
    assert allowed.status == 303  # the same form from our page passes
