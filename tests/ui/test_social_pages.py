"""Social sign-in from the hosted pages, on both databases: the provider's button on `/ui/login`,
the real OpenID provider of tests/support/oidc_provider.py, and the callback of a UI flow (signed
in, a second step due, or an error shown on the sign-in page). No URL of the chain ever carries
a token."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import pytest
from sqlalchemy import update

from authgate.storage.models import User
from tests.support.app import sql
from tests.support.http import STRONG_PASSWORD, bearer, register, set_cookies
from tests.support.mfa import Authenticator
from tests.support.oidc_provider import TestProvider
from tests.support.social import SocialClientFactory, callback_from_provider
from tests.support.ui import ORIGIN, Page, location, open_page, sign_in, submit

EMAIL = "ada@example.com"


async def through_the_button(client: httpx.AsyncClient, login_path: str = "/ui/login") -> list[httpx.Response]:
    """What a browser does: the provider's link on the sign-in page, the provider (which
    consents at once), back to the callback. Every answer of the chain, the callback's last."""
    shown = await open_page(client, login_path)
    link = Page(shown).one("a", **{"class": "provider"})["href"]
    started = await open_page(client, link)
    back = await client.get(await callback_from_provider(location(started)), headers={"Accept": "text/html"})
    return [shown, started, back]


def assert_no_secret_in_urls(chain: list[httpx.Response], *secrets: str) -> None:
    """Neither the secrets nor any token parameter in a URL the browser was sent to or opened."""
    urls = [str(r.request.url) for r in chain] + [r.headers.get("location", "") for r in chain]
    for url in urls:
        assert "token" not in url.lower(), url
        for secret in secrets:
            assert secret not in url, url


async def provider_account(client: httpx.AsyncClient) -> str:
    """An account made by a first sign-in through the pages; its access token. The browser is
    cleared after."""
    chain = await through_the_button(client)
    token = set_cookies(chain[-1])["accessToken"]["value"]
    client.cookies.clear()
    return token


async def test_the_button_signs_in_and_lands_on_return_to(social: SocialClientFactory, op: TestProvider) -> None:
    op.login_as("ada-1", email=EMAIL, email_verified=True)
    async with social() as client:
        login = Page(await open_page(client, "/ui/login?return_to=/ui/account/sessions"))
        assert login.one("a", **{"class": "provider"})["href"] == "/ui/oauth/acme?return_to=%2Fui%2Faccount%2Fsessions"
        chain = await through_the_button(client, "/ui/login?return_to=/ui/account/sessions")
        back = chain[-1]
        assert location(back) == f"{ORIGIN}/ui/account/sessions"
        cookies = set_cookies(back)
        access, refresh = cookies["accessToken"]["value"], cookies["refreshToken"]["value"]
        assert "httponly" in cookies["accessToken"] and cookies["refreshToken"]["path"] == "/"
        me = await client.get("/user", headers=bearer(access))
        assert me.json()["email"] == EMAIL
        assert_no_secret_in_urls(chain, access, refresh)
        assert (await open_page(client, "/ui/account/sessions")).status_code == 200  # the pages see the session

        client.cookies.clear()
        again = await through_the_button(client)
        assert location(again[-1]) == f"{ORIGIN}/ui/account"  # no return_to: the account


async def test_a_social_sign_in_gives_the_csrf_cookie_a_new_value(
    social: SocialClientFactory, op: TestProvider
) -> None:
    op.login_as("ada-1", email=EMAIL, email_verified=True)
    async with social() as client:
        chain = await through_the_button(client)
        before = set_cookies(chain[0])["authgate-csrf"]["value"]
        renewed = set_cookies(chain[-1])["authgate-csrf"]
        assert renewed["value"] != before and "httponly" in renewed and renewed["path"] == "/"
        account = await open_page(client, "/ui/account")
        assert account.status_code == 200
        assert "authgate-csrf" not in set_cookies(account)  # the browser kept the new one
        saved = await submit(client, "/ui/account", {"name": "Ada"})
        assert saved.status_code == 303  # the forms of the new session work


async def test_a_second_factor_is_asked_through_the_mfa_cookie(social: SocialClientFactory, op: TestProvider) -> None:
    op.login_as("ada-1", email=EMAIL, email_verified=True)
    async with social() as client:
        token = await provider_account(client)
        setup = (await client.post("/mfa/setup", headers=bearer(token))).json()
        app = Authenticator(setup["secret"])
        enabled = await client.post(
            "/mfa/enable", headers=bearer(token), json={"secret": setup["secret"], "verificationCode": await app.code()}
        )
        assert enabled.status_code == 200, enabled.text

        chain = await through_the_button(client, "/ui/login?return_to=/ui/account/mfa")
        pending = chain[-1]
        assert location(pending) == f"{ORIGIN}/ui/mfa"
        cookies = set_cookies(pending)
        step = cookies["authgate-mfa"]
        assert "httponly" in step and step["path"] == "/ui/" and int(step["max-age"]) > 0
        assert "accessToken" not in cookies
        mfa_token = step["value"].split(".")[0]

        shown = await open_page(client, "/ui/mfa")
        assert shown.status_code == 200
        done = await submit(client, "/ui/mfa", {"code": await app.code()})
        assert location(done) == f"{ORIGIN}/ui/account/mfa"
        signed = set_cookies(done)
        assert signed["authgate-mfa"]["max-age"] == "0"
        me = await client.get("/user", headers=bearer(signed["accessToken"]["value"]))
        assert me.json()["email"] == EMAIL
        assert_no_secret_in_urls([*chain, shown, done], mfa_token, signed["accessToken"]["value"])


async def _denied(client: httpx.AsyncClient, op: TestProvider) -> None:
    op.deny_next()


async def _not_linked(client: httpx.AsyncClient, op: TestProvider) -> None:
    await register(client, email=EMAIL)  # an account with the provider's address, never linked
    client.cookies.clear()


async def _disabled(client: httpx.AsyncClient, op: TestProvider) -> None:
    await provider_account(client)
    await sql(client, update(User).values(disabled=True))


async def _locked(client: httpx.AsyncClient, op: TestProvider) -> None:
    await provider_account(client)
    for _ in range(5):
        wrong = await client.post("/login", json={"email": EMAIL, "password": STRONG_PASSWORD + "x"})
        assert wrong.status_code == 401
    client.cookies.clear()


@pytest.mark.parametrize(
    ("arrange", "code", "message"),
    [
        (_denied, "oauth_denied", "The sign-in with the provider was cancelled."),
        (_not_linked, "identity_not_linked", "No account is linked to this provider account."),
        (_disabled, "account_disabled", "This account has been disabled."),
        (_locked, "account_locked", "Too many failed attempts: the account is locked for a while."),
    ],
)
async def test_an_error_goes_back_to_the_sign_in_page_naming_its_code(
    social: SocialClientFactory,
    op: TestProvider,
    arrange: Callable[[httpx.AsyncClient, TestProvider], Awaitable[None]],
    code: str,
    message: str,
) -> None:
    op.login_as("ada-1", email=EMAIL, email_verified=True)
    async with social() as client:
        await arrange(client, op)
        chain = await through_the_button(client, "/ui/login?return_to=/ui/account")
        back = chain[-1]
        assert location(back) == f"{ORIGIN}/ui/login?error={code}"
        assert "accessToken" not in set_cookies(back) and "authgate-mfa" not in set_cookies(back)
        shown = Page(await open_page(client, location(back)))
        assert shown.status == 200
        assert message in shown.error_summary()
        assert_no_secret_in_urls(chain)


async def test_a_social_sign_in_ends_the_session_the_browser_held(
    social: SocialClientFactory, op: TestProvider
) -> None:
    """As at the sign-in page: the browser's earlier session (another account here) ends."""
    async with social() as client:
        await register(client, email="bea@example.com")
        client.cookies.clear()
        await sign_in(client, "bea@example.com", STRONG_PASSWORD)
        held = client.cookies["refreshToken"]
        op.login_as("ada-1", email=EMAIL, email_verified=True)
        chain = await through_the_button(client, "/ui/login?prompt=login")  # the form, though signed in
        assert location(chain[-1]) == f"{ORIGIN}/ui/account"
        reused = await client.post("/token/refresh", json={"refreshToken": held})
        assert reused.status_code == 401, reused.text
