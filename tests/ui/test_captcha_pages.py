"""The CAPTCHA on the pages' forms: ALTCHA solved by the pages' own script (here, by the
library, as the widget would), the hosted providers' widgets allowed by the CSP."""

from __future__ import annotations

from tests.support.captcha import solve
from tests.support.http import STRONG_PASSWORD, register
from tests.support.ui import open_page, submit


async def test_altcha_guards_the_sign_in_form(make_client) -> None:  # type: ignore[no-untyped-def]
    async with make_client(captcha_provider="altcha") as client:
        await register(client, captchaToken=solve((await client.get("/captcha/challenge")).json()))
        client.cookies.clear()
        page = await open_page(client, "/ui/login")
        assert 'data-altcha-challenge="/captcha/challenge"' in page.text
        assert '<script src="/ui/static/captcha.js" async defer></script>' in page.text
        assert "script-src 'self';" in page.headers["content-security-policy"]
        assert "captcha.js" not in (await open_page(client, "/ui/logout")).text
        body = {"email": "ada@example.com", "password": STRONG_PASSWORD}
        refused = await submit(client, "/ui/login", body)
        assert refused.status_code == 400
        assert "The CAPTCHA was not solved. Try again." in refused.text
        solved = solve((await client.get("/captcha/challenge")).json())
        done = await submit(client, "/ui/login", {**body, "altcha": solved})
        assert done.status_code == 303 and done.headers["location"] == "/ui/account"
        replayed = await submit(client, "/ui/login", {**body, "altcha": solved}, page="/ui/login?prompt=login")
        assert replayed.status_code == 400


async def test_a_hosted_widget_is_allowed_by_the_csp(make_client) -> None:  # type: ignore[no-untyped-def]
    settings = {"captcha_provider": "turnstile", "captcha_secret": "provider-secret", "captcha_site_key": "0x4AAA-key"}
    async with make_client(**settings) as client:
        page = await open_page(client, "/ui/register")
    assert '<div class="captcha cf-turnstile" data-sitekey="0x4AAA-key"></div>' in page.text
    assert 'src="https://challenges.cloudflare.com/turnstile/v0/api.js"' in page.text
    csp = page.headers["content-security-policy"]
    assert "script-src 'self' https://challenges.cloudflare.com;" in csp
    assert "frame-src https://challenges.cloudflare.com;" in csp
