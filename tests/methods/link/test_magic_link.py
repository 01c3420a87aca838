"""Magic links: request → mail over SMTP → follow; JSON login or 302 with cookies; 15
minutes, single use, concurrent clicks, the open-redirect tricks, and the sign-in gate."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import update

from authgate.storage.models import User
from tests.support.app import runtime
from tests.support.delivery import MessagingClientFactory, expire_everything, settled_outbox
from tests.support.http import STRONG_PASSWORD, bearer, register
from tests.support.mail import Mailbox, link_in, mail_code

APP = "https://app.example.com"


async def magic_link(client: httpx.AsyncClient, mailbox: Mailbox, count: int = 1, **extra: str) -> str:
    response = await client.post("/login/magic", json={"email": "ada@example.com", **extra})
    assert response.status_code == 202, response.text
    return link_in(await mailbox.wait_for("ada@example.com", count), "/login/magic/")


async def test_magic_link_signs_in_once(mclient: httpx.AsyncClient, mailbox: Mailbox) -> None:
    await register(mclient)
    link = await magic_link(mclient, mailbox)
    mail = mailbox.to("ada@example.com")[0]
    assert mail["Subject"] == "Your sign-in link" and "15 minutes" in mail.as_string()
    signed_in = await mclient.get(link)
    assert signed_in.status_code == 200, signed_in.text
    body = signed_in.json()
    assert body["message"] == "Login successful" and body["token"] == body["accessToken"]
    assert body["tokenType"] == "Bearer" and body["email"] == "ada@example.com"
    assert body["user"]["emailVerified"] is True
    assert signed_in.cookies.get("accessToken") == body["token"]
    me = await mclient.get("/user", headers=bearer(body["token"]))
    assert me.status_code == 200 and me.json()["email"] == "ada@example.com"

    reused = await mclient.get(link)
    assert reused.status_code == 400 and reused.json()["code"] == "invalid_token"


async def test_same_answer_for_unknown_accounts(mclient: httpx.AsyncClient, mailbox: Mailbox) -> None:
    await register(mclient)
    known = await mclient.post("/login/magic", json={"email": "ada@example.com"})
    unknown = await mclient.post("/login/magic", json={"email": "ghost@example.com"})
    assert (known.status_code, known.content) == (unknown.status_code, unknown.content)
    assert known.status_code == 202


async def test_expired_link_is_refused(mclient: httpx.AsyncClient, mailbox: Mailbox) -> None:
    await register(mclient)
    link = await magic_link(mclient, mailbox)
    await expire_everything(mclient)
    response = await mclient.get(link)
    assert response.status_code == 400 and response.json()["code"] == "invalid_token"


async def test_ten_concurrent_clicks_one_session(mclient: httpx.AsyncClient, mailbox: Mailbox) -> None:
    await register(mclient)
    link = await magic_link(mclient, mailbox)
    answers = await asyncio.gather(*(mclient.get(link) for _ in range(10)))
    assert sorted(a.status_code for a in answers) == [200] + [400] * 9


async def test_redirect_with_cookies(messaging_client: MessagingClientFactory, mailbox: Mailbox) -> None:
    async with messaging_client(redirect_allowlist=APP) as client:
        await register(client)
        link = await magic_link(client, mailbox, redirectTo=f"{APP}/home?tab=1")
        response = await client.get(link)
        assert response.status_code == 302
        assert response.headers["location"] == f"{APP}/home?tab=1"
        cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("accessToken="))
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
        token = cookie.split(";", 1)[0].split("=", 1)[1]
        assert (await client.get("/user", headers=bearer(token))).status_code == 200


async def test_redirect_checked_again_when_used(messaging_client: MessagingClientFactory, mailbox: Mailbox) -> None:
    """A redirect stored while allowed is dropped if the allow-list no longer has it."""
    async with messaging_client(redirect_allowlist=APP) as client:
        await register(client)
        link = await magic_link(client, mailbox, redirectTo=f"{APP}/home")
    async with messaging_client(redirect_allowlist="https://other.example.com") as client:
        response = await client.get(link)
        assert response.status_code == 200 and "location" not in response.headers


TRICKS = [
    "https://evil.com",
    "//evil.com",
    "///evil.com",
    "https://app.example.com.evil.com",
    "https:/\\evil.com",
    "/\\evil.com",
    "https://app.example.com@evil.com",
    "https://app.example.com%2F@evil.com",
    "%2F%2Fevil.com",
    "/%2F%2Fevil.com",
    "/%5Cevil.com",
    "javascript:alert(document.cookie)",
    "data:text/html,hi",
    "/\t/evil.com",
    "https://app.example.com\r\nSet-Cookie: x=1",
    "http://app.example.com",
]


async def test_redirect_tricks_are_refused(messaging_client: MessagingClientFactory) -> None:
    async with messaging_client(redirect_allowlist=APP) as client:
        await register(client)
        for trick in TRICKS:
            response = await client.post("/login/magic", json={"email": "ada@example.com", "redirectTo": trick})
            assert response.status_code == 400, trick
            assert response.json()["code"] == "validation_failed"
            assert response.json()["errors"][0]["field"] == "redirectTo"
        ok = await client.post("/login/magic", json={"email": "ada@example.com", "redirectTo": f"{APP}/x"})
        assert ok.status_code == 202


async def test_disabled_account_cannot_use_a_link(mclient: httpx.AsyncClient, mailbox: Mailbox) -> None:
    await register(mclient)
    link = await magic_link(mclient, mailbox)
    async with runtime(mclient).db.begin() as db:  # no admin API yet: disable the row directly
        await db.execute(update(User).values(disabled=True))
    response = await mclient.get(link)
    assert response.status_code == 403 and response.json()["code"] == "account_disabled"
    # And a disabled account is sent no new links (same 202).
    assert (await mclient.post("/login/magic", json={"email": "ada@example.com"})).status_code == 202
    assert [r.status for r in await settled_outbox(mclient)] == ["sent", "suppressed"]
    assert len(mailbox.to("ada@example.com")) == 1


async def enable_email_factor(client: httpx.AsyncClient, mailbox: Mailbox, token: str, count: int) -> None:
    sent = await client.post("/otp/send", json={"channel": "email", "purpose": "mfa"}, headers=bearer(token))
    assert sent.status_code == 202
    code = mail_code(await mailbox.wait_for("ada@example.com", count))
    enabled = await client.post(
        "/otp/verify", json={"channel": "email", "code": code, "purpose": "mfa"}, headers=bearer(token)
    )
    assert enabled.status_code == 200, enabled.text


async def test_factors_are_independent_mailbox_cannot_be_both(mclient: httpx.AsyncClient, mailbox: Mailbox) -> None:
    """With email codes as the second factor, a magic link (the same mailbox) cannot be the
    first: the mailbox alone must not pass both steps."""
    token = (await register(mclient)).json()["token"]
    await enable_email_factor(mclient, mailbox, token, 1)
    link = await magic_link(mclient, mailbox, 2)
    response = await mclient.get(link)
    assert response.status_code == 403 and response.json()["code"] == "forbidden"
    assert "accessToken" not in response.cookies
    # The password still opens the first step, and the email code the second.
    login = await mclient.post("/login", json={"email": "ada@example.com", "password": STRONG_PASSWORD})
    assert login.status_code == 401 and login.json()["mfaMethods"] == ["code"]
