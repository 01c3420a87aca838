"""The pages' edges over HTTP, on SQLite and PostgreSQL: the CSRF token's construction and its
refusals, the stylesheets the provider's pages need while the pages are off, the 404 page for a
missing static file, the body types and sizes the pages take, and the CSRF and second-step
cookies."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

import httpx
import pytest

from tests.support.app import TEST_SECRET
from tests.support.http import STRONG_PASSWORD, login, register, set_cookies
from tests.support.mfa import enrol
from tests.support.passkeys import assert_problem, claims
from tests.support.provider_flow import ISSUER, provider
from tests.support.ui import BROWSER, SAME_ORIGIN, location, open_page, post_form, sign_in, submit

EXPIRED = "This form has expired. Reload the page and try again."
NOT_A_FORM = "The form was not sent as a web form. Reload the page and try again."
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
PAGE_HEADERS = {
    "content-security-policy": CSP,
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    "cross-origin-opener-policy": "same-origin",
}
PAGE_LINK = re.compile(r'href="/ui/(?!static/)')
LOGIN = {"email": "ada@example.com", "password": STRONG_PASSWORD}


def _expected_token(cookie_value: str, session_id: str | None) -> str:
    """The token as documented, computed here without the server's code: an HKDF-SHA256 key
    (no salt, info `authgate-ui-csrf`) from JWT_SECRET, an HMAC-SHA256 of the cookie's value and
    the session id (or `anonymous`), base64url without padding."""
    prk = hmac.new(b"\0" * 32, TEST_SECRET.encode(), hashlib.sha256).digest()  # RFC 5869 extract
    key = hmac.new(prk, b"authgate-ui-csrf\x01", hashlib.sha256).digest()  # expand, one block
    mac = hmac.new(key, f"{cookie_value}.{session_id or 'anonymous'}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def _assert_page(answer: httpx.Response, status: int, text: str) -> None:
    assert answer.status_code == status, (answer.status_code, answer.text[:500])
    assert answer.headers["content-type"].startswith("text/html")
    assert text in answer.text
    for name, value in PAGE_HEADERS.items():
        assert answer.headers[name] == value, name


# --- the CSRF token ------------------------------------------------------------------------------------


async def test_a_token_that_is_not_ascii_is_the_form_expired_page(client: httpx.AsyncClient) -> None:
    await register(client)
    client.cookies.clear()
    await open_page(client, "/ui/login")  # the CSRF cookie
    for token in ("é", "\u202e", "a" * 43 + "é"):
        refused = await post_form(client, "/ui/login", LOGIN, token=token)
        _assert_page(refused.response, 403, EXPIRED)
        assert "accessToken" not in set_cookies(refused.response)
    options = await post_form(client, "/ui/passkey/options", {"purpose": "login"}, token="é")
    assert_problem(options.response, 403, "forbidden")


async def test_the_provider_pages_refuse_a_token_that_is_not_ascii(make_client) -> None:  # type: ignore[no-untyped-def]
    async with provider(make_client) as client:
        await open_page(client, "/oauth2/logout")
        refused = await post_form(client, "/oauth2/logout", {}, token="é", headers={"Origin": ISSUER})
        assert refused.status == 403 and EXPIRED in refused.text
        consent = await post_form(
            client, "/oauth2/consent", {"request": "x", "decision": "allow"}, token="é", headers={}
        )
        assert consent.status == 403 and EXPIRED in consent.text


async def test_the_token_is_an_hmac_of_the_cookie_and_the_session_under_a_key_from_jwt_secret(
    client: httpx.AsyncClient,
) -> None:
    await register(client)
    client.cookies.clear()
    anonymous = await open_page(client, "/ui/login")
    cookie = set_cookies(anonymous)["authgate-csrf"]["value"]
    assert len(base64.urlsafe_b64decode(cookie + "=" * (-len(cookie) % 4))) == 32  # 32 random bytes
    assert re.search(rf'name="csrf_token" value="{re.escape(_expected_token(cookie, None))}"', anonymous.text)
    signed = await sign_in(client, "ada@example.com", STRONG_PASSWORD)
    cookies = set_cookies(signed)
    session_id = claims(cookies["accessToken"]["value"])["sid"]
    account = await open_page(client, "/ui/account")
    expected = _expected_token(cookies["authgate-csrf"]["value"], session_id)
    assert re.search(rf'name="csrf_token" value="{re.escape(expected)}"', account.text)


async def test_a_token_minted_for_one_session_is_refused_under_another_with_the_same_cookie(
    client: httpx.AsyncClient,
) -> None:
    await register(client)
    first = claims((await login(client)).json()["accessToken"])["sid"]
    second = (await login(client)).json()
    cookie = "k" * 43  # the browser's CSRF cookie, the same throughout
    client.cookies.set("accessToken", second["accessToken"])
    client.cookies.set("refreshToken", second["refreshToken"])
    client.cookies.set("authgate-csrf", cookie)
    for token in (_expected_token(cookie, first), _expected_token(cookie, None)):
        refused = await post_form(client, "/ui/logout", {}, token=token)
        _assert_page(refused.response, 403, EXPIRED)
    assert (await open_page(client, "/ui/account")).status_code == 200  # still signed in
    done = await post_form(
        client, "/ui/logout", {}, token=_expected_token(cookie, claims(second["accessToken"])["sid"])
    )
    assert location(done) == "/ui/login?notice=signed_out"


# --- the provider's pages while the pages are off; a missing static file ------------------------------


async def test_with_the_pages_off_the_providers_pages_keep_their_stylesheets(make_client) -> None:  # type: ignore[no-untyped-def]
    async with provider(make_client, ui=False) as client:
        signed = (await register(client)).json()  # a viewer: the header would link the account pages
        client.cookies.set("accessToken", signed["accessToken"])
        shown = await open_page(client, "/oauth2/logout")
        assert shown.status_code == 200
        sheets = re.findall(r'<link rel="stylesheet" href="([^"]+)">', shown.text)
        assert sheets == ["/ui/static/authgate.css", "/ui/static/theme.css"]
        for sheet in sheets:
            css = await client.get(sheet)
            assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
        assert not PAGE_LINK.search(shown.text)  # no link to a page that is not served
        error = await open_page(client, "/ui/static/nothing.css")
        assert error.status_code == 404 and not PAGE_LINK.search(error.text)
        for path in ("/ui/login", "/ui/"):
            off = await open_page(client, path)
            assert off.status_code == 404 and off.headers["content-type"] == "application/problem+json"


async def test_with_the_pages_and_the_provider_off_no_static_file_is_served(make_client) -> None:  # type: ignore[no-untyped-def]
    async with make_client(ui=False) as client:
        css = await client.get("/ui/static/authgate.css")
    assert css.status_code == 404 and css.headers["content-type"] == "application/problem+json"


async def test_a_missing_static_file_is_the_404_page_with_the_pages_headers(client: httpx.AsyncClient) -> None:
    for path in ("/ui/static/nothing.css", "/ui/static/.hidden"):
        missing = await client.get(path, headers=BROWSER)
        _assert_page(missing, 404, "There is nothing here.")
        assert '<html lang="en">' in missing.text


# --- body types and sizes ---------------------------------------------------------------------------


async def test_with_the_pages_off_any_body_to_ui_is_the_404_problem(make_client) -> None:  # type: ignore[no-untyped-def]
    async with make_client(ui=False) as client:
        answers = [
            await client.post("/ui/login", data=LOGIN, headers=SAME_ORIGIN),
            await client.post("/ui/login", json=LOGIN),
            await client.post("/ui/login", files={"email": ("e", b"ada@example.com")}),
            await client.post("/ui/nowhere", content=b"x", headers={"Content-Type": "text/plain"}),
        ]
    for answer in answers:
        assert_problem(answer, 404, "not_found")


async def test_a_body_that_is_not_a_form_is_a_415_on_the_pages(make_client) -> None:  # type: ignore[no-untyped-def]
    async with provider(make_client) as client:
        await open_page(client, "/ui/login")
        headers = {**BROWSER, "Origin": ISSUER}
        for path in ("/ui/login", "/ui/account", "/oauth2/logout"):
            as_json = await client.post(path, json=LOGIN, headers=headers)
            _assert_page(as_json, 415, NOT_A_FORM)
        multipart = await client.post("/ui/login", files={"email": ("e", b"ada@example.com")}, headers=headers)
        _assert_page(multipart, 415, NOT_A_FORM)
        options = await client.post("/ui/passkey/options", json={"purpose": "login"}, headers=headers)
        assert_problem(options, 415, "unsupported_media_type")
        # outside /ui/, the edge answers: where forms are taken, a multipart body is no form either
        for path in ("/password/reset/x", "/oauth2/token", "/oauth2/authorize", "/oauth2/consent", "/oauth2/logout"):
            answer = await client.post(path, files={"password": ("p", b"Sturdy-Horse-42")})
            assert_problem(answer, 415, "unsupported_media_type")


async def test_the_body_limit_follows_its_setting(make_client) -> None:  # type: ignore[no-untyped-def]
    limit = 1000
    async with make_client(max_body_bytes=limit) as client:
        await open_page(client, "/ui/login")

        def json_of(size: int) -> bytes:
            body = b'{"email": "ada@example.com", "password": "'
            return body + b"x" * (size - len(body) - 2) + b'"}'

        def form_of(size: int) -> bytes:
            body = b"email=ada%40example.com&password="
            return body + b"x" * (size - len(body))

        for path, body_of, content_type in (
            ("/login", json_of, "application/json"),
            ("/ui/login", form_of, "application/x-www-form-urlencoded"),
        ):
            headers = {**BROWSER, **SAME_ORIGIN, "Content-Type": content_type}
            over = await client.post(path, content=body_of(limit + 1), headers=headers)
            assert_problem(over, 413, "payload_too_large")
            at = await client.post(path, content=body_of(limit), headers=headers)
            assert at.status_code in (400, 401, 403), (path, at.status_code)  # read, then refused on its merits


# --- cookies ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("secure", "name"), [(False, "authgate-csrf"), (True, "__Host-authgate-csrf")])
async def test_the_csrf_cookie_lives_for_the_browser_session(make_client, secure: bool, name: str) -> None:  # type: ignore[no-untyped-def]
    async with make_client(cookie_secure=secure) as client:
        await register(client)
        client.cookies.clear()
        first = set_cookies(await open_page(client, "/ui/login"))[name]
        client.cookies.set(name, first["value"])  # over http the jar keeps no Secure cookie
        signed = await submit(client, "/ui/login", LOGIN)
        renewed = set_cookies(signed)[name]
    attributes = {"httponly": "", "path": "/", "samesite": "lax", **({"secure": ""} if secure else {})}
    for cookie in (first, renewed):
        assert {k: v for k, v in cookie.items() if k != "value"} == attributes  # no Max-Age, no Domain
    assert renewed["value"] != first["value"]


async def test_the_second_step_cookie_lives_as_long_as_its_token(make_client) -> None:  # type: ignore[no-untyped-def]
    async with make_client(mfa_token_ttl_seconds=123) as client:
        account = await enrol(client)
        client.cookies.clear()
        first = await submit(client, "/ui/login", {"email": account.email, "password": account.password})
    assert location(first) == "/ui/mfa"
    pending = set_cookies(first)["authgate-mfa"]
    assert {k: v for k, v in pending.items() if k != "value"} == {
        "httponly": "",
        "max-age": "123",
        "path": "/ui/",
        "samesite": "lax",
    }
