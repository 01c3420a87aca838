"""`/ui/reauth` over HTTP, on both databases: the proof it records counts for the API's next
sensitive change, once, even with `AUTHGATE_REAUTH_MAX_AGE_SECONDS=0`."""

from __future__ import annotations

import httpx

from tests.support.http import STRONG_PASSWORD, bearer, register, set_cookies
from tests.support.mail import code_in
from tests.support.mfa import enable_code_factor, enrol
from tests.support.sms import PHONE, SmsReceiver, verified_phone_user
from tests.support.ui import Page, field_error, location, open_page, parse, sign_in, submit


async def _signed_in(client: httpx.AsyncClient, email: str, password: str = STRONG_PASSWORD) -> str:
    client.cookies.clear()
    done = await sign_in(client, email, password)
    return set_cookies(done)["accessToken"]["value"]


async def test_a_password_proof_lets_exactly_the_next_change_through(make_client) -> None:  # type: ignore[no-untyped-def]
    async with make_client(reauth_max_age_seconds=0) as client:
        await register(client)
        token = await _signed_in(client, "ada@example.com")
        assert (await client.post("/mfa/setup", headers=bearer(token))).json()["code"] == "reauthentication_required"
        shown = await open_page(client, "/ui/reauth?return_to=/ui/account/passkeys")
        assert shown.status_code == 200
        assert parse(shown.text).by_id["currentPassword"]["autocomplete"] == "current-password"
        wrong = await submit(
            client, "/ui/reauth", {"currentPassword": "Wrong-Horse-42"}, page="/ui/reauth?return_to=/ui/account"
        )
        assert wrong.status_code == 401 and field_error(wrong.text, "currentPassword") is not None
        done = await submit(
            client, "/ui/reauth", {"currentPassword": STRONG_PASSWORD}, page="/ui/reauth?return_to=/ui/account/passkeys"
        )
        assert done.status_code == 303 and done.headers["location"] == "/ui/account/passkeys"
        assert (await client.post("/mfa/setup", headers=bearer(token))).status_code == 200
        again = await client.post("/mfa/setup", headers=bearer(token))
        assert again.json()["code"] == "reauthentication_required"  # spent by the change it allowed
        audit = await client.get("/audit/logs", params={"type": "user.reauthenticated"}, headers=bearer(token))
        assert audit.status_code in (200, 403)  # a plain user may not read the trail; the admin tests do


async def test_a_second_factor_code_is_a_proof_too(make_client) -> None:  # type: ignore[no-untyped-def]
    async with make_client() as client:
        account = await enrol(client)
    async with make_client(reauth_max_age_seconds=0) as client:
        first = await submit(client, "/ui/login", {"email": account.email, "password": account.password})
        assert first.headers["location"] == "/ui/mfa"
        signed = await submit(client, "/ui/mfa", {"code": await account.app.code()})
        token = set_cookies(signed)["accessToken"]["value"]
        shown = Page(await open_page(client, "/ui/reauth"))
        assert '<label for="code">Or a code from your authenticator app</label>' in shown.text
        assert not shown.all("input", name="send")  # nothing to send for an authenticator app
        done = await submit(client, "/ui/reauth", {"code": account.recovery_codes[0]})
        assert done.status_code == 303
        assert (await client.post("/mfa/setup", headers=bearer(token))).json()["code"] != "reauthentication_required"


async def test_reauth_needs_a_session_and_offers_a_link_when_nothing_else_can_prove_it(make_client) -> None:  # type: ignore[no-untyped-def]
    async with make_client() as client:
        anonymous = await open_page(client, "/ui/reauth?return_to=/ui/account")
        assert anonymous.status_code == 303
        assert anonymous.headers["location"] == "/ui/login?return_to=%2Fui%2Freauth%3Freturn_to%3D%2Fui%2Faccount"
        await register(client)
        await _signed_in(client, "ada@example.com")
        shown = await open_page(client, "/ui/reauth?return_to=//evil.example")
        assert 'name="return_to"' not in shown.text  # a refused return_to is dropped


async def test_a_texted_code_is_a_proof_and_the_page_sends_it(messaging_client, sms: SmsReceiver) -> None:  # type: ignore[no-untyped-def]
    async def texted(count: int) -> str:
        return code_in(await sms.wait_for(PHONE, count))

    async with messaging_client() as client:
        token = await verified_phone_user(client, sms)  # the first text verified the phone
        await enable_code_factor(client, token, "sms", lambda: texted(2))
    async with messaging_client(reauth_max_age_seconds=0) as client:
        first = await submit(client, "/ui/login", {"email": "ada@example.com", "password": STRONG_PASSWORD})
        assert location(first) == "/ui/mfa"
        await submit(client, "/ui/mfa", {}, form_index=1)  # "Send a code"
        signed = await submit(client, "/ui/mfa", {"code": await texted(3)})
        access = set_cookies(signed)["accessToken"]["value"]
        assert (await client.post("/mfa/setup", headers=bearer(access))).json()["code"] == "reauthentication_required"

        ask = "/ui/reauth?return_to=/ui/account/passkeys"
        shown = Page(await open_page(client, ask))
        assert '<label for="code">Or a code we send you</label>' in shown.text
        assert shown.one("input", name="send")
        assert len(sms.to(PHONE)) == 3  # nothing is sent until asked for
        sent = await submit(client, "/ui/reauth", {}, page=ask, form_index=1)
        assert location(sent) == "/ui/reauth?return_to=%2Fui%2Faccount%2Fpasskeys&notice=code_sent"
        assert Page(await open_page(client, location(sent))).notice() == "A code is on its way."
        wrong = await submit(client, "/ui/reauth", {"code": "000000"}, page=ask)
        assert wrong.status_code == 401 and field_error(wrong.text, "code") is not None
        done = await submit(client, "/ui/reauth", {"code": await texted(4)}, page=ask)
        assert location(done) == "/ui/account/passkeys"
        assert (await client.post("/mfa/setup", headers=bearer(access))).status_code == 200
