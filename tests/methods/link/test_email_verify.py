"""Email verification: the link arrives by real SMTP and is followed over HTTP."""

from __future__ import annotations

import asyncio

import httpx

from tests.support.delivery import MessagingClientFactory, expire_everything, settled_outbox
from tests.support.http import STRONG_PASSWORD, bearer, register
from tests.support.mail import Mailbox, link_in

ACCEPTED = {"message": "If an account exists for this address, we have sent it an email."}


async def test_register_with_verify_email_then_follow_the_link(mclient: httpx.AsyncClient, mailbox: Mailbox) -> None:
    reg = await register(mclient, options={"verifyEmail": True})
    token = reg.json()["token"]
    assert reg.json()["user"]["emailVerified"] is False
    mail = await mailbox.wait_for("ada@example.com")
    assert mail["Subject"] == "Confirm your email address"
    link = link_in(mail, "/email/verify/")
    assert link.startswith("http://testserver/email/verify/")

    first = await mclient.get(link)
    assert first.status_code == 200, first.text
    assert first.json() == {"message": "Email verified", "emailVerified": True}
    me = await mclient.get("/user", headers=bearer(token))
    assert me.json()["emailVerified"] is True

    again = await mclient.get(link)
    assert again.status_code == 400
    assert again.json()["code"] == "invalid_token"


async def test_post_email_verify_same_answer_for_unknown_and_verified(
    mclient: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    await register(mclient)
    await register(mclient, email="done@example.com")
    known = await mclient.post("/email/verify", json={"email": "Ada@Example.com"})
    unknown = await mclient.post("/email/verify", json={"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json() == ACCEPTED
    assert known.headers["content-length"] == unknown.headers["content-length"]
    await mailbox.wait_for("ada@example.com")
    link = link_in(mailbox.to("ada@example.com")[0], "/email/verify/")
    assert (await mclient.get(link)).status_code == 200
    # Verified already: the same 202, and no second mail.
    assert (await mclient.post("/email/verify", json={"email": "ada@example.com"})).json() == ACCEPTED
    statuses = sorted(r.status for r in await settled_outbox(mclient))
    assert statuses == ["sent", "suppressed", "suppressed"]  # ada's link; nobody's decoy; ada's, verified already
    assert len(mailbox.to("ada@example.com")) == 1
    assert mailbox.to("nobody@example.com") == []


async def test_bad_email_is_a_validation_error(mclient: httpx.AsyncClient) -> None:
    response = await mclient.post("/email/verify", json={"email": "not-an-address"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "email"


async def test_expired_and_unknown_links_are_refused(mclient: httpx.AsyncClient, mailbox: Mailbox) -> None:
    await register(mclient, options={"verifyEmail": True})
    link = link_in(await mailbox.wait_for("ada@example.com"), "/email/verify/")
    await expire_everything(mclient)
    expired = await mclient.get(link)
    assert expired.status_code == 400 and expired.json()["code"] == "invalid_token"
    forged = await mclient.get("/email/verify/" + "A" * 43)
    assert forged.status_code == 400 and forged.json() == expired.json()
    huge = await mclient.get("/email/verify/" + "A" * 500)
    assert huge.status_code == 400


async def test_redirect_after_verification(messaging_client: MessagingClientFactory, mailbox: Mailbox) -> None:
    async with messaging_client(redirect_allowlist="https://app.example.com") as client:
        await register(client)
        refused = await client.post(
            "/email/verify", json={"email": "ada@example.com", "redirectTo": "https://app.example.com.evil.com/"}
        )
        assert refused.status_code == 400
        assert refused.json()["errors"][0]["field"] == "redirectTo"
        accepted = await client.post(
            "/email/verify", json={"email": "ada@example.com", "redirectTo": "https://app.example.com/welcome"}
        )
        assert accepted.status_code == 202
        link = link_in(await mailbox.wait_for("ada@example.com"), "/email/verify/")
        followed = await client.get(link)
        assert followed.status_code == 302
        assert followed.headers["location"] == "https://app.example.com/welcome"


async def test_html_answers_for_browsers(messaging_client: MessagingClientFactory, mailbox: Mailbox) -> None:
    """With the hosted pages off, a browser gets the small built-in pages."""
    async with messaging_client(ui=False) as mclient:
        await register(mclient, options={"verifyEmail": True})
        link = link_in(await mailbox.wait_for("ada@example.com"), "/email/verify/")
        ok = await mclient.get(link, headers={"Accept": "text/html"})
        assert ok.status_code == 200 and ok.headers["content-type"].startswith("text/html")
        assert ok.headers["referrer-policy"] == "no-referrer"
        again = await mclient.get(link, headers={"Accept": "text/html"})
        assert again.status_code == 400 and "does not work" in again.text


async def test_required_verification_blocks_login_until_verified(
    messaging_client: MessagingClientFactory, mailbox: Mailbox
) -> None:
    async with messaging_client(require_email_verification=True) as client:
        await register(client, options={"verifyEmail": True})
        credentials = {"email": "ada@example.com", "password": STRONG_PASSWORD}
        blocked = await client.post("/login", json=credentials)
        assert blocked.status_code == 403 and blocked.json()["code"] == "email_not_verified"
        link = link_in(await mailbox.wait_for("ada@example.com"), "/email/verify/")
        assert (await client.get(link)).status_code == 200
        assert (await client.post("/login", json=credentials)).status_code == 200


async def test_ten_concurrent_clicks_one_wins(mclient: httpx.AsyncClient, mailbox: Mailbox) -> None:
    await register(mclient, options={"verifyEmail": True})
    link = link_in(await mailbox.wait_for("ada@example.com"), "/email/verify/")
    answers = await asyncio.gather(*(mclient.get(link) for _ in range(10)))
    assert sorted(a.status_code for a in answers) == [200] + [400] * 9
