"""authgate as an OpenID provider, walked in headless Chromium by an app on another origin.

The app ("Pinboard", a `ThreadingHTTPServer` on `127.0.0.1:<port>`) sends the browser to
authgate (`localhost:<port>`, its own server for this module: the provider's settings add
"Connected apps" to the account pages the other walks check) with PKCE, `state` and `nonce`;
the browser signs in on the hosted page, answers the consent page, and lands back on the app's
`/callback`, whose code the test exchanges like the app's back end would, checking the ID token
against the published keys. Each hop that ends on the other origin is a form's redirect chain,
which Chromium checks against the submitting page's CSP `form-action`: a page that did not
name the app's origin would stop the walk with a CSP violation in the console.

Also: `prompt=none` straight back with a code; the connected-apps page and its "Revoke"; a
"Deny"; RP-initiated logout, confirmed on a page (no `id_token_hint`) and at once (with one).
Every hosted page on the way passes the page rules (tests/support/pages.py); screenshots go
to `test-artifacts/screenshots/<test>/`."""

from __future__ import annotations

import html
import json
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from selenium import webdriver
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from tests.support.http import STRONG_PASSWORD
from tests.support.oidc_provider import s256
from tests.support.pages import (
    HostedStack,
    PageCheck,
    browser_log,
    button,
    drain_logs,
    fill,
    hosted_stack,
    main_text,
    notice,
    press,
    wait_for_path,
)
from tests.support.server import PATIENCE, serve_in_thread

pytestmark = pytest.mark.slow

APP_NAME = "Pinboard"
SCOPES = "openid profile email"
SCOPE_WORDS = ["Who you are", "Your name and username", "Your email address"]
PROVIDER = {"AUTHGATE_OIDC_PROVIDER": "on", "AUTHGATE_JWT_ALGORITHM": "RS256"}


# --- the app ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Started:
    """What the app keeps of an authorization request it sent, by its `state`."""

    verifier: str
    nonce: str


@dataclass(frozen=True)
class Tokens:
    id_token: str
    access_token: str
    claims: dict[str, Any]  # the ID token's, its signature checked


class RelyingParty:
    """The app: `/login` sends the browser to authgate (a new state, nonce and PKCE verifier
    each time; `?prompt=` passed on), `/callback` and `/bye` show the query they got,
    `/logout` sends the browser to authgate's logout (`?hint=1`: with the last ID token as
    `id_token_hint`, else with `client_id`; `?state=` passed on)."""

    def __init__(self, issuer: str) -> None:
        self.issuer = issuer
        self.started: dict[str, Started] = {}
        self.id_token: str | None = None
        self.client_id = ""
        self.secret = ""
        self.server = serve_in_thread(_handler(self), 0)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def register(self, admin_token: str) -> None:
        body = {
            "name": APP_NAME,
            "redirectUris": [self.url("/callback")],
            "postLogoutRedirectUris": [self.url("/bye")],
            "scopes": SCOPES.split(),
        }
        made = httpx.post(
            f"{self.issuer}/oauth2/clients",
            json=body,
            headers={"Authorization": f"Bearer {admin_token}"},
            timeout=PATIENCE,
        )
        assert made.status_code == 201, made.text
        self.client_id, self.secret = made.json()["clientId"], made.json()["clientSecret"]

    def authorization_url(self, prompt: str | None) -> str:
        state, nonce, verifier = secrets.token_urlsafe(16), secrets.token_urlsafe(16), secrets.token_urlsafe(48)
        self.started[state] = Started(verifier=verifier, nonce=nonce)
        query = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.url("/callback"),
            "scope": SCOPES,
            "state": state,
            "nonce": nonce,
            "code_challenge": s256(verifier),
            "code_challenge_method": "S256",
        }
        if prompt:
            query["prompt"] = prompt
        return f"{self.issuer}/oauth2/authorize?{urlencode(query)}"

    def logout_url(self, *, hint: bool, state: str | None) -> str:
        query = {"post_logout_redirect_uri": self.url("/bye")}
        if hint:
            assert self.id_token is not None
            query["id_token_hint"] = self.id_token
        else:
            query["client_id"] = self.client_id
        if state:
            query["state"] = state
        return f"{self.issuer}/oauth2/logout?{urlencode(query)}"

    def exchange(self, query: dict[str, str]) -> Tokens:
        """The back end's half: the code for tokens (client_secret_basic, the PKCE verifier of
        the request whose `state` came back), the ID token checked as an app must check it."""
        started = self.started.pop(query["state"])
        answer = httpx.post(
            f"{self.issuer}/oauth2/token",
            data={
                "grant_type": "authorization_code",
                "code": query["code"],
                "redirect_uri": self.url("/callback"),
                "code_verifier": started.verifier,
            },
            auth=(self.client_id, self.secret),
            timeout=PATIENCE,
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        keys = KeySet.import_key_set(httpx.get(f"{self.issuer}/.well-known/jwks.json", timeout=PATIENCE).json())
        decoded = jwt.decode(body["id_token"], keys, algorithms=["RS256"])
        claims = dict(decoded.claims)
        assert decoded.header["kid"] and claims["iss"] == self.issuer and claims["aud"] == self.client_id
        assert claims["nonce"] == started.nonce and claims["exp"] > time.time() >= claims["iat"] - 5
        self.id_token = body["id_token"]
        return Tokens(id_token=body["id_token"], access_token=body["access_token"], claims=claims)

    def email_of(self, tokens: Tokens) -> str:
        """The `email` claim userinfo gives for the access token."""
        info = httpx.get(
            f"{self.issuer}/oauth2/userinfo",
            headers={"Authorization": f"Bearer {tokens.access_token}"},
            timeout=PATIENCE,
        )
        assert info.status_code == 200, info.text
        assert info.json()["sub"] == tokens.claims["sub"]
        return str(info.json()["email"])

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _handler(app: RelyingParty) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = dict(parse_qsl(parts.query))
            if parts.path == "/login":
                self._redirect(app.authorization_url(query.get("prompt")))
            elif parts.path == "/logout":
                self._redirect(app.logout_url(hint=query.get("hint") == "1", state=query.get("state")))
            elif parts.path == "/callback":
                self._page(f"Back at {APP_NAME}", query)
            elif parts.path == "/bye":
                self._page(f"Signed out of {APP_NAME}", query)
            else:
                self.send_error(404)

        def _redirect(self, location: str) -> None:
            self.send_response(302)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _page(self, heading: str, query: dict[str, str]) -> None:
            rows = "".join(
                f"<dt>{html.escape(name)}</dt><dd id='{html.escape(name)}'>{html.escape(value)}</dd>"
                for name, value in query.items()
            )
            body = (
                f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{heading}</title>"
                f"<link rel='icon' href='data:,'></head><body><h1>{heading}</h1><dl>{rows}</dl></body></html>"
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


# --- fixtures ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostedStack]:
    """The hosted pages' server with the OpenID provider on (issuer `http://localhost:<port>`)."""
    with hosted_stack(tmp_path_factory.mktemp("provider"), **PROVIDER) as running:
        yield running


@pytest.fixture(scope="module")
def app(provider: HostedStack) -> Iterator[RelyingParty]:
    """Pinboard, registered by an administrator through the client API."""
    admin = provider.account(role="admin")
    signed = httpx.post(provider.url("/login"), json={"email": admin, "password": STRONG_PASSWORD}, timeout=PATIENCE)
    assert signed.status_code == 200, signed.text
    running = RelyingParty(provider.base)
    try:
        running.register(signed.json()["accessToken"])
        yield running
    finally:
        running.stop()


@pytest.fixture
def page_check(provider: HostedStack, axe: str, screenshot: Callable[..., None]) -> PageCheck:
    return PageCheck(csp=provider.csp, axe=axe, screenshot=screenshot)


# --- reading the browser ---------------------------------------------------------------------------


def arrive(driver: webdriver.Chrome, app: RelyingParty, path: str) -> dict[str, str]:
    """Until the browser shows the app's page at `path`; the query it got."""
    WebDriverWait(driver, PATIENCE).until(
        lambda d: (
            urlsplit(d.current_url).path == path
            and d.current_url.startswith(app.base + "/")
            and d.execute_script("return document.readyState") == "complete"
        ),
        message=f"waiting for the app's {path} (at {driver.current_url})",
    )
    query = dict(parse_qsl(urlsplit(driver.current_url).query))
    names, values = ([e.text for e in driver.find_elements(By.TAG_NAME, tag)] for tag in ("dt", "dd"))
    assert dict(zip(names, values, strict=True)) == query  # what the app's page received
    return query


def csp_reports(driver: webdriver.Chrome) -> list[str]:
    """CSP violations the console logged since the last read (a blocked form redirect)."""
    return [e["message"] for e in browser_log(driver, "browser") if "Content Security Policy" in e["message"]]


def documents(driver: webdriver.Chrome) -> list[tuple[str, int]]:
    """Each top-level document the browser was answered since the logs were last read: the
    redirects on the way (URL, status) and the page it showed, in order."""
    seen = []
    for entry in browser_log(driver, "performance"):
        message = json.loads(entry["message"])["message"]
        params = message["params"]
        if message["method"] == "Network.requestWillBeSent" and params.get("type") == "Document":
            if "redirectResponse" in params:
                seen.append((params["redirectResponse"]["url"], int(params["redirectResponse"]["status"])))
        elif message["method"] == "Network.responseReceived" and params["type"] == "Document":
            seen.append((params["response"]["url"], int(params["response"]["status"])))
    return seen


def hops(chain: list[tuple[str, int]]) -> list[tuple[str, str, int]]:
    """The chain as (origin, path, status)."""
    return [(f"{urlsplit(u).scheme}://{urlsplit(u).netloc}", urlsplit(u).path, status) for u, status in chain]


def sign_in_by_keyboard(driver: webdriver.Chrome, email: str) -> None:
    """Type into the sign-in page as a person: the identifier has the focus; Enter sends."""
    assert driver.switch_to.active_element.get_attribute("id") == "email"
    ActionChains(driver).send_keys(email, Keys.TAB, STRONG_PASSWORD, Keys.ENTER).perform()


def scope_items(driver: webdriver.Chrome) -> list[str]:
    return [item.text for item in driver.find_elements(By.CSS_SELECTOR, "main ul.scopes li")]


# --- the walks -------------------------------------------------------------------------------------


def test_an_app_signs_in_through_the_hosted_pages(
    provider: HostedStack, app: RelyingParty, chromium: webdriver.Chrome, page_check: PageCheck
) -> None:
    email = provider.account()
    with_app = provider.policy(app.base)  # the CSP of a page whose form may end at the app

    # The app's sign-in link: authgate's sign-in page, naming the app.
    chromium.get(app.url("/login"))
    wait_for_path(chromium, "/ui/login")
    page_check(chromium, "sign-in-for-the-app", csp=with_app)
    assert f"to continue to {APP_NAME}" in main_text(chromium)
    sign_in_by_keyboard(chromium, email)

    # Consent, the scopes in words; "Allow" takes the browser to the app on its origin.
    wait_for_path(chromium, "/oauth2/consent")
    page_check(chromium, "consent", csp=with_app)
    assert chromium.find_element(By.TAG_NAME, "h1").text == f"Allow {APP_NAME} to use your account?"
    assert scope_items(chromium) == SCOPE_WORDS
    button(chromium, "Allow").click()
    back = arrive(chromium, app, "/callback")
    assert set(back) == {"code", "state", "iss"} and back["iss"] == provider.base
    assert back["state"] in app.started
    assert csp_reports(chromium) == []

    tokens = app.exchange(back)
    assert tokens.claims["amr"] == ["pwd"] and tokens.claims["sid"] and tokens.claims["azp"] == app.client_id
    assert app.email_of(tokens) == email
    assert provider.whoami(chromium) == email  # signed in at authgate too

    # The app again, asking not to show a page: straight back with a code, no page between.
    drain_logs(chromium)
    chromium.get(app.url("/login?prompt=none"))
    again = arrive(chromium, app, "/callback")
    assert hops(documents(chromium)) == [
        (app.base, "/login", 302),
        (provider.base, "/oauth2/authorize", 302),
        (app.base, "/callback", 200),
    ]
    second = app.exchange(again)
    assert (second.claims["sub"], second.claims["sid"]) == (tokens.claims["sub"], tokens.claims["sid"])

    # The account's connected apps: Pinboard, with what it may do; "Revoke" takes it back.
    chromium.get(provider.url("/ui/account/apps"))
    page_check(chromium, "connected-apps")
    (card,) = chromium.find_elements(By.CSS_SELECTOR, "main ul.cards > li")
    assert card.find_element(By.TAG_NAME, "h2").text == APP_NAME
    assert scope_items(chromium) == SCOPE_WORDS
    press(chromium, "Revoke", "/ui/account/apps")
    page_check(chromium, "app-revoked")
    assert notice(chromium) == "The app's access has been revoked."
    assert "No app has access to your account." in main_text(chromium)
    chromium.get(app.url("/login?prompt=none"))  # consent is needed again
    refused = arrive(chromium, app, "/callback")
    assert refused["error"] == "consent_required" and "code" not in refused

    # An app authgate does not know: an error page, never a redirect.
    unknown = {"response_type": "code", "client_id": "no-such-app", "redirect_uri": app.url("/callback")}
    chromium.get(provider.url(f"/oauth2/authorize?{urlencode({**unknown, 'scope': 'openid'})}"))
    wait_for_path(chromium, "/oauth2/authorize")
    page_check(chromium, "unknown-app", status=400)
    assert "names an unknown app" in main_text(chromium)


def test_deny_then_sign_out_back_to_the_app(
    provider: HostedStack, app: RelyingParty, chromium: webdriver.Chrome, page_check: PageCheck
) -> None:
    email = provider.account()
    with_app = provider.policy(app.base)

    # "Deny" on the consent page: the app hears access_denied.
    chromium.get(app.url("/login"))
    wait_for_path(chromium, "/ui/login")
    fill(chromium, email=email, password=STRONG_PASSWORD)
    press(chromium, "Sign in", "/oauth2/consent")
    page_check(chromium, "consent", csp=with_app)
    button(chromium, "Deny").click()
    denied = arrive(chromium, app, "/callback")
    assert denied["error"] == "access_denied" and denied["iss"] == provider.base and "code" not in denied
    assert denied["state"] in app.started
    assert csp_reports(chromium) == []

    # Asked again, allowed this time.
    chromium.get(app.url("/login"))
    wait_for_path(chromium, "/oauth2/consent")
    button(chromium, "Allow").click()
    app.exchange(arrive(chromium, app, "/callback"))

    # The app's sign-out link without an ID token: authgate asks; "Sign out" goes back to the app.
    chromium.get(app.url("/logout?state=confirmed"))
    wait_for_path(chromium, "/oauth2/logout")
    page_check(chromium, "logout-confirm", csp=with_app)
    assert f"{APP_NAME} asks to sign you out." in main_text(chromium)
    button(chromium, "Sign out").click()
    assert arrive(chromium, app, "/bye") == {"state": "confirmed"}
    assert csp_reports(chromium) == []
    assert provider.whoami(chromium) is None

    # Signed in again (consent stands: no page), then signed out with the ID token as the hint:
    # straight back to the app, no page between.
    chromium.get(app.url("/login"))
    wait_for_path(chromium, "/ui/login")
    sign_in_by_keyboard(chromium, email)
    app.exchange(arrive(chromium, app, "/callback"))
    assert csp_reports(chromium) == []
    drain_logs(chromium)
    chromium.get(app.url("/logout?hint=1&state=hinted"))
    assert arrive(chromium, app, "/bye") == {"state": "hinted"}
    assert hops(documents(chromium)) == [
        (app.base, "/logout", 302),
        (provider.base, "/oauth2/logout", 302),
        (app.base, "/bye", 200),
    ]
    chromium.get(provider.url("/ui/account"))
    wait_for_path(chromium, "/ui/login")  # signed out
    assert provider.whoami(chromium) is None

    # The logout endpoint with no app: the confirmation, then authgate's own signed-out page,
    # which shows no one signed in.
    fill(chromium, email=email, password=STRONG_PASSWORD)
    press(chromium, "Sign in", "/ui/account")
    chromium.get(provider.url("/oauth2/logout"))
    page_check(chromium, "logout-confirm-no-app")
    press(chromium, "Sign out", "/oauth2/logout")
    page_check(chromium, "signed-out")
    assert chromium.find_element(By.TAG_NAME, "h1").text == "You are signed out"
    assert provider.whoami(chromium) is None
    header = chromium.find_element(By.TAG_NAME, "header").text
    assert "Sign out" not in header and "Account" not in header, header
