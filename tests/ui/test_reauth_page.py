"""`/ui/reauth` over HTTP, on both databases: the proof it records counts for the API's next
sensitive change, once, even with `AUTHGATE_REAUTH_MAX_AGE_SECONDS=0`."""

from __future__ import annotations

import httpx

from tests.support.http import STRONG_PASSWORD, bearer, register, set_cookies
from tests.support.mfa import enrol
from tests.support.ui import field_error, open_page, parse, sign_in, submit


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
