"""Which language a page speaks along a flow: an app's `ui_locales` on every page of its sign-in
(not only the first), language links that keep what the page serves, and the services' refusals
(the password policy's) in the page's language."""

from __future__ import annotations

import html
import re
from urllib.parse import urlencode

import httpx

from tests.support.app import ClientFactory
from tests.support.http import STRONG_PASSWORD, register
from tests.support.provider_flow import admin_token, authorize_url, new_client, provider, query_of
from tests.support.ui import field_error, open_page, parse, sign_in, submit

ADA = "ada@example.com"


def lang_of(page: httpx.Response) -> str:
    found = re.search(r'<html lang="([^"]+)">', page.text)
    assert found is not None, page.text[:300]
    return found.group(1)


def language_link(page: httpx.Response, code: str) -> str:
    """The href of the footer's link to `code`, as a browser reads it."""
    found = re.search(rf'<a href="([^"]*)" lang="{code}"', page.text)
    assert found is not None, page.text[-800:]
    return html.unescape(found.group(1))


async def _app_asking_german(client: httpx.AsyncClient) -> str:
    """Ada (signed out, her browser set to English) and an app whose request asks for German:
    the login URL the provider sends her to."""
    app = await new_client(client, await admin_token(client))
    await register(client, email=ADA)
    client.cookies.clear()
    client.cookies.set("authgate-lang", "en")  # her own earlier choice, which the app's request overrides
    sent = await client.get(authorize_url(app["clientId"], ui_locales="fr de"))
    return str(sent.headers["location"])


async def _consent_after_sign_in(client: httpx.AsyncClient, login: str) -> str:
    """Sign in on `login` and follow the provider to its consent page: that page's URL."""
    signed = await sign_in(client, ADA, STRONG_PASSWORD, page=login)
    continued = await open_page(client, signed.headers["location"])
    assert continued.status_code == 302, continued.text
    return str(continued.headers["location"])


async def test_an_apps_ui_locales_speak_on_every_page_of_its_flow(make_client: ClientFactory) -> None:
    async with provider(make_client, ui_locales="en,de") as client:
        login = await _app_asking_german(client)
        assert lang_of(await open_page(client, login)) == "de"
        wrong = await submit(client, "/ui/login", {"email": ADA, "password": "Wrong-Horse-42"}, page=login)
        assert wrong.status_code == 401 and lang_of(wrong) == "de"  # the form again, from the posted return_to
        continuation = query_of(login)["return_to"]
        register_page = await open_page(client, "/ui/register?" + urlencode({"return_to": continuation}))
        assert lang_of(register_page) == "de"
        consent = await _consent_after_sign_in(client, login)
        assert "ui_locales" not in consent
        shown = await open_page(client, consent)
        assert shown.status_code == 200 and lang_of(shown) == "de"
        assert lang_of(await open_page(client, "/ui/account")) == "en"  # outside the flow: her own choice


async def test_a_language_link_keeps_the_consent_pages_request(make_client: ClientFactory) -> None:
    async with provider(make_client, ui_locales="en,de") as client:
        consent = await _consent_after_sign_in(client, await _app_asking_german(client))
        german = await open_page(client, consent)
        link = language_link(german, "en")
        assert link == f"?request={query_of(consent)['request']}&lang=en"
        english = await open_page(client, "/oauth2/consent" + link)
        assert english.status_code == 200 and lang_of(english) == "en"  # a choice on the page wins for it
        assert parse(english.text).forms[0]["fields"]["request"] == query_of(consent)["request"]


async def test_a_language_link_keeps_return_to_also_on_a_form_shown_again(make_client: ClientFactory) -> None:
    async with make_client(ui_locales="en,de") as client:
        await register(client, email=ADA)
        client.cookies.clear()
        page = await open_page(client, "/ui/login?return_to=%2Fui%2Faccount%2Fsessions")
        assert language_link(page, "de") == "?return_to=%2Fui%2Faccount%2Fsessions&lang=de"
        wrong = await submit(
            client,
            "/ui/login",
            {"email": ADA, "password": "Wrong-Horse-42"},
            page="/ui/login?return_to=/ui/account/sessions",
        )
        link = language_link(wrong, "de")
        assert link == "?return_to=%2Fui%2Faccount%2Fsessions&lang=de"
        german = await open_page(client, "/ui/login" + link)
        assert lang_of(german) == "de" and 'name="return_to" value="/ui/account/sessions"' in german.text
        signed = await sign_in(client, ADA, STRONG_PASSWORD, page="/ui/login" + link)
        assert signed.headers["location"] == "/ui/account/sessions"


async def test_the_password_policys_refusal_reads_in_the_pages_language(make_client: ClientFactory) -> None:
    async with make_client(ui_locales="en,de") as client:
        refused = await submit(
            client, "/ui/register", {"email": ADA, "password": "Ab1", "name": ""}, page="/ui/register?lang=de"
        )
        assert refused.status_code == 400 and lang_of(refused) == "de"
        assert field_error(refused.text, "password") == "Das Passwort muss mindestens 8 Zeichen lang sein."
        assert "at least" not in refused.text
        api = await client.post("/api/auth/register", json={"email": ADA, "password": "Ab1"})
        assert "Password must be at least 8 characters." in api.text  # the API's words stay as they were


async def test_the_services_field_errors_read_in_the_pages_language(make_client: ClientFactory) -> None:
    """A service's own refusals (a body's schema, the profile rules, an address that is no
    address) are catalogue messages: a German page shows them in German, values put back."""
    async with make_client(ui_locales="en,de") as client:
        await register(client, email=ADA)
        client.cookies.clear()
        await sign_in(client, ADA, STRONG_PASSWORD, page="/ui/login?lang=de")
        details = await submit(client, "/ui/account", {"name": "Ada\x07"})
        assert details.status_code == 400 and lang_of(details) == "de"
        assert field_error(details.text, "name") == "Steuerzeichen sind nicht erlaubt."
        assert "Control characters" not in details.text
        details = await submit(client, "/ui/account", {"name": "Ada", "username": "no spaces"})
        assert (field_error(details.text, "username") or "").startswith("Der Benutzername muss aus 1 bis 64")
        password = await submit(client, "/ui/account/password", {"currentPassword": "", "password": "Newer-Horse-42"})
        assert password.status_code == 400
        assert field_error(password.text, "currentPassword") == (
            "Um ein neues Passwort festzulegen, ist das aktuelle Passwort erforderlich."
        )
        client.cookies.clear()
        refused = await submit(
            client, "/ui/register", {"email": "ada@", "password": STRONG_PASSWORD}, page="/ui/register?lang=de"
        )
        assert refused.status_code == 400 and lang_of(refused) == "de"
        assert (field_error(refused.text, "email") or "").startswith("Keine gültige E-Mail-Adresse: ")
        api = await client.post("/api/auth/register", json={"email": "ada@", "password": STRONG_PASSWORD})
        assert "Not a valid email address: " in api.text  # the API's words stay as they were
