"""With AUTHGATE_APP_URL, emailed links open the app's own pages with the token, and the app
finishes each flow through the API. On SQLite and PostgreSQL."""

from __future__ import annotations

import re
from email.message import EmailMessage

import pytest

from authgate.settings import ConfigError, load_settings
from tests.support.delivery import MessagingClientFactory
from tests.support.http import register
from tests.support.mail import Mailbox
from tests.support.social import query_of

APP = "https://app.example.com"


def app_link(message: EmailMessage, page: str) -> str:
    """The link to the app's `page` in the text part, and the same in the HTML part."""
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None and html is not None
    found = re.search(re.escape(page) + r"\S+", text.get_content())
    assert found, text.get_content()
    assert found.group(0).replace("&", "&amp;") in html.get_content()
    return found.group(0)


async def test_each_link_opens_the_apps_page_and_the_app_finishes_it(
    messaging_client: MessagingClientFactory, mailbox: Mailbox
) -> None:
    async with messaging_client(app_url=APP) as client:
        await register(client, options={"verifyEmail": True})
        verify = app_link(await mailbox.wait_for("ada@example.com"), f"{APP}/auth/verify-email?token=")
        verified = await client.get(f"/email/verify/{query_of(verify)['token']}")
        assert verified.json() == {"message": "Email verified", "emailVerified": True}

        await client.post("/password/forgot", json={"email": "ada@example.com"})
        reset = app_link(await mailbox.wait_for("ada@example.com", 2), f"{APP}/auth/reset-password?token=")
        token = query_of(reset)["token"]
        assert (await client.get(f"/password/reset/{token}")).json() == {"valid": True}
        assert (await client.post(f"/password/reset/{token}", json={"password": "Another-Horse-43"})).status_code == 200

        await client.post("/login/magic", json={"email": "ada@example.com"})
        magic = app_link(await mailbox.wait_for("ada@example.com", 3), f"{APP}/auth/magic-link?token=")
        signed_in = await client.get(f"/login/magic/{query_of(magic)['token']}")
        assert signed_in.status_code == 200 and signed_in.json()["accessToken"]


async def test_one_page_per_flow_can_be_named(messaging_client: MessagingClientFactory, mailbox: Mailbox) -> None:
    page = "https://app.example.com/account/new-password?lang=en"
    async with messaging_client(app_url=APP, app_reset_password_url=page) as client:
        await register(client)
        await client.post("/password/forgot", json={"email": "ada@example.com"})
        reset = app_link(await mailbox.wait_for("ada@example.com"), page + "&token=")
        assert query_of(reset)["lang"] == "en"
        assert (await client.get(f"/password/reset/{query_of(reset)['token']}")).json() == {"valid": True}


async def test_without_an_app_url_links_open_authgates_pages(
    messaging_client: MessagingClientFactory, mailbox: Mailbox
) -> None:
    async with messaging_client() as client:
        await register(client)
        await client.post("/password/forgot", json={"email": "ada@example.com"})
        assert "/password/reset/" in app_link(await mailbox.wait_for("ada@example.com"), "http")


async def test_the_apps_origin_is_an_allowed_redirect_by_default(messaging_client: MessagingClientFactory) -> None:
    async with messaging_client(app_url=APP) as client:
        ok = await client.post("/login/magic", json={"email": "ada@example.com", "redirectTo": f"{APP}/welcome"})
        assert ok.status_code == 202, ok.text
        other = await client.post(
            "/login/magic", json={"email": "ada@example.com", "redirectTo": "https://evil.example"}
        )
        assert other.status_code == 400


@pytest.mark.parametrize("bad", ["myapp://auth", "javascript:alert(1)", "https://user@app.example.com", "/relative"])
def test_an_app_url_that_is_not_an_http_page_is_a_configuration_error(bad: str) -> None:
    with pytest.raises(ConfigError, match="AUTHGATE_APP_URL"):
        load_settings(jwt_secret="s" * 40, app_url=bad)
