"""Themes and languages of the hosted pages: files in AUTHGATE_TEMPLATES_DIR replace the shipped
ones one by one, a catalogue there adds a language, the browser's languages pick one, and a
template or catalogue that does not parse stops the start naming it."""

from __future__ import annotations

from pathlib import Path

import pytest

from authgate.settings import Settings
from authgate.ui.catalogue import TEMPLATE, extract, shipped_locales
from authgate.ui.locale import negotiate, preferred
from authgate.ui.templating import Pages, TemplatesError
from tests.support.app import TEST_SECRET
from tests.support.http import set_cookies
from tests.support.server import run_authgate
from tests.support.ui import BROWSER, open_page

FRENCH = """msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"
"Language: fr\\n"

msgid "Sign in"
msgstr "Se connecter"
"""


def _theme(root: Path) -> Path:
    (root / "static").mkdir(parents=True)
    (root / "static" / "theme.css").write_text(":root { --authgate-primary: #7a1fa2; }\n")
    (root / "static" / "logo.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>')
    (root / "ui").mkdir()
    (root / "ui" / "forgot.html").write_text(
        '{% extends "ui/base.html" %}{% block title %}{{ _("Forgot") }}{% endblock %}'
        "{% block content %}<h1>Lost it? {{ product }}</h1>{% endblock %}"
    )
    (root / "locales" / "fr" / "LC_MESSAGES").mkdir(parents=True)
    (root / "locales" / "fr" / "LC_MESSAGES" / "authgate.po").write_text(FRENCH)
    return root


async def test_a_theme_replaces_files_one_by_one_and_keeps_autoescape(make_client, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    theme = _theme(tmp_path / "theme")
    async with make_client(templates_dir=theme, ui_product_name="Acme <ID>") as client:
        css = await client.get("/ui/static/theme.css")
        assert css.status_code == 200 and "#7a1fa2" in css.text
        assert css.headers["cache-control"] == "public, max-age=3600"
        assert (await client.get("/ui/static/authgate.css")).status_code == 200  # the shipped one stays
        assert (await client.get("/ui/static/nothing.css")).status_code == 404
        assert (await client.get("/ui/static/..%2Fui%2Flogin.html")).status_code == 404
        forgot = await open_page(client, "/ui/forgot")
        assert "<h1>Lost it? Acme &lt;ID&gt;</h1>" in forgot.text
        assert "<title>Forgot · Acme &lt;ID&gt;</title>" in forgot.text
        login = await open_page(client, "/ui/login")
        assert "<title>Sign in · Acme &lt;ID&gt;</title>" in login.text  # the shipped template
        assert '<img class="logo" src="/ui/static/logo.svg" alt="">' in login.text


async def test_the_browsers_languages_choose_and_lang_is_remembered(make_client, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    theme = _theme(tmp_path / "theme")
    async with make_client(templates_dir=theme, ui_locales="en,fr") as client:
        french = await client.get("/ui/login", headers={**BROWSER, "Accept-Language": "fr-CH, en;q=0.5"})
        assert '<html lang="fr">' in french.text
        assert "<h1>Se connecter</h1>" in french.text
        assert "Forgot your password?" in french.text  # not in the catalogue: English
        chosen = await client.get("/ui/login?lang=en", headers={**BROWSER, "Accept-Language": "fr"})
        cookie = set_cookies(chosen)["authgate-lang"]  # every attribute; not HttpOnly: it holds no secret
        assert cookie == {"value": "en", "max-age": str(365 * 24 * 3600), "path": "/", "samesite": "lax"}
        assert '<html lang="en">' in chosen.text
        remembered = await client.get("/ui/login", headers={**BROWSER, "Accept-Language": "fr"})
        assert '<html lang="en">' in remembered.text
        once = await client.get("/ui/login?ui_locales=fr", headers=BROWSER)
        assert '<html lang="fr">' in once.text and "authgate-lang" not in set_cookies(once)


def test_negotiation_follows_q_values_and_falls_back_to_the_language() -> None:
    assert preferred("de;q=0.3, fr-CH, en;q=0.8, *;q=0.1") == ["fr-CH", "en", "de"]
    available = ("en", "de")
    assert negotiate(query=None, cookie=None, header="de-CH,de;q=0.9", available=available) == "de"
    assert negotiate(query=None, cookie=None, header="ja, fr", available=available) == "en"
    assert negotiate(query="de", cookie="en", header="en", available=available) == "de"
    assert negotiate(query="xx", cookie="de", header="en", available=available) == "de"


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, jwt_secret=TEST_SECRET, **values)  # type: ignore[call-arg,arg-type]


def test_a_template_that_does_not_parse_or_a_locale_without_a_catalogue_stops_the_start(tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    (broken / "ui").mkdir(parents=True)
    (broken / "ui" / "login.html").write_text("{% block content %}never closed")
    with pytest.raises(TemplatesError, match=r"ui/login\.html"):
        Pages.build(_settings(templates_dir=broken))
    with pytest.raises(TemplatesError, match="the locale fr has no catalogue"):
        Pages.build(_settings(ui_locales="en,fr"))
    bad_po = tmp_path / "bad-po" / "locales" / "fr" / "LC_MESSAGES"
    bad_po.mkdir(parents=True)
    (bad_po / "authgate.po").write_text('msgid "unterminated\n')
    with pytest.raises(TemplatesError, match=r"authgate\.po does not parse"):
        Pages.build(_settings(templates_dir=tmp_path / "bad-po", ui_locales="en,fr"))


def test_serve_refuses_to_start_on_a_broken_template_naming_it(tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    (broken / "ui").mkdir(parents=True)
    (broken / "ui" / "mfa.html").write_text("{% if %}")
    ran = run_authgate(tmp_path, "serve", "--port", "1", AUTHGATE_TEMPLATES_DIR=str(broken))
    assert ran.returncode == 2
    assert "AUTHGATE_TEMPLATES_DIR" in ran.stderr and "ui/mfa.html" in ran.stderr
    ran = run_authgate(tmp_path, "serve", "--port", "1", AUTHGATE_UI_LOCALES="en,xx")
    assert ran.returncode == 2 and "AUTHGATE_UI_LOCALES" in ran.stderr


def test_the_shipped_template_lists_every_message_and_each_catalogue_translates_them() -> None:
    """`make messages` after changing a page: the template and the catalogues follow the code."""
    from babel.messages.pofile import read_po

    used = {message.id for message in extract() if message.id}
    with TEMPLATE.open("rb") as shipped:
        listed = {message.id for message in read_po(shipped) if message.id}
    assert used == listed, f"run make messages: missing {sorted(used - listed)[:5]}, gone {sorted(listed - used)[:5]}"
    assert shipped_locales(), "German ships"
    for path in shipped_locales():
        with path.open("rb") as catalogue:
            translated = {m.id for m in read_po(catalogue) if m.id and m.string and not m.fuzzy}
        assert used <= translated, f"{path}: untranslated {sorted(used - translated)[:5]}"


async def test_the_first_locale_is_the_default(make_client) -> None:  # type: ignore[no-untyped-def]
    async with make_client(ui_locales="de,en") as client:
        page = await open_page(client, "/ui/login")
    assert "accept-language" not in page.request.headers
    assert '<html lang="de">' in page.text and "<h1>Anmelden</h1>" in page.text


async def test_over_https_the_language_cookie_is_secure(make_client) -> None:  # type: ignore[no-untyped-def]
    async with make_client(ui_locales="en,de", cookie_secure=True) as client:
        chosen = await open_page(client, "/ui/login?lang=de")
    cookie = set_cookies(chosen)["authgate-lang"]
    assert cookie == {"value": "de", "max-age": str(365 * 24 * 3600), "path": "/", "samesite": "lax", "secure": ""}


async def test_german_ships(make_client) -> None:  # type: ignore[no-untyped-def]
    async with make_client(ui_locales="en,de") as client:
        page = await client.get("/ui/login", headers={**BROWSER, "Accept-Language": "de-AT"})
    assert '<html lang="de">' in page.text
    assert "<h1>Anmelden</h1>" in page.text
