"""Password reset: forgot → mail over SMTP → GET/POST the link; single use, expiry, races,
sessions revoked, other links and codes voided, Host poisoning, form posts."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from sqlalchemy import select

from authgate.storage.models import OneTimeSecret
from tests.support.app import runtime
from tests.support.delivery import MessagingClientFactory, expire_everything, settled_outbox
from tests.support.http import STRONG_PASSWORD, bearer, register
from tests.support.mail import Mailbox, link_in, mail_code

NEW_PASSWORD = "Brand-New-Horse-77"


async def reset_link(client: httpx.AsyncClient, mailbox: Mailbox, count: int = 1, **extra: str) -> str:
    response = await client.post("/password/forgot", json={"email": "ada@example.com", **extra})
    assert response.status_code == 202, response.text
    return link_in(await mailbox.wait_for("ada@example.com", count), "/password/reset/")


async def login(client: httpx.AsyncClient, password: str) -> httpx.Response:
    return await client.post("/login", json={"email": "ada@example.com", "password": password})


async def test_full_reset_flow(mclient: httpx.AsyncClient, mailbox: Mailbox) -> None:
    await register(mclient)
    old_token = (await login(mclient, STRONG_PASSWORD)).json()["token"]
    link = await reset_link(mclient, mailbox)
    assert link.startswith("http://testserver/password/reset/")
    mail = mailbox.to("ada@example.com")[0]
    assert mail["Subject"] == "Reset your password" and mail["From"] == "auth@testserver.example"

    check = await mclient.get(link)
    assert check.status_code == 200 and check.json() == {"valid": True}
    done = await mclient.post(link, json={"password": NEW_PASSWORD})
    assert done.status_code == 200, done.text
    assert done.json() == {"message": "Password has been reset"}

    assert (await mclient.get("/user", headers=bearer(old_token))).status_code == 401  # every session revoked
    assert (await login(mclient, STRONG_PASSWORD)).status_code == 401
    fresh = await login(mclient, NEW_PASSWORD)
    assert fresh.status_code == 200
    assert fresh.json()["user"]["emailVerified"] is True  # opening the emailed link proved the address

    reused = await mclient.post(link, json={"password": "Another-Horse-88"})
    assert reused.status_code == 400 and reused.json()["code"] == "invalid_token"
    assert (await mclient.get(link)).status_code == 400


async def test_unknown_account_gets_the_same_answer(mclient: httpx.AsyncClient, mailbox: Mailbox) -> None:
    await register(mclient)
    known = await mclient.post("/password/forgot", json={"email": "ada@example.com"})
    unknown = await mclient.post("/password/forgot", json={"email": "ghost@example.com"})
    assert known.status_code == unknown.status_code == 202
    assert known.content == unknown.content
    assert {k: v for k, v in known.headers.items() if k != "date"} == {
        k: v for k, v in unknown.headers.items() if k != "date"
    }
    await mailbox.wait_for("ada@example.com")
    assert sorted(r.status for r in await settled_outbox(mclient)) == ["sent", "suppressed"]
    assert mailbox.to("ghost@example.com") == []


async def test_links_use_the_public_url_never_the_host_header(
    messaging_client: MessagingClientFactory, mailbox: Mailbox
) -> None:
    async with messaging_client(public_url="https://auth.example.com") as client:
        await register(client)
        poisoned = {"Host": "evil.example", "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "http"}
        response = await client.post("/password/forgot", json={"email": "ada@example.com"}, headers=poisoned)
        assert response.status_code == 202
        mail = await mailbox.wait_for("ada@example.com")
        raw = mail.as_string()
        assert "evil.example" not in raw
        assert link_in(mail, "/password/reset/").startswith("https://auth.example.com/password/reset/")


async def test_ten_concurrent_resets_one_wins(mclient: httpx.AsyncClient, mailbox: Mailbox) -> None:
    await register(mclient)
    link = await reset_link(mclient, mailbox)
    answers = await asyncio.gather(
        *(mclient.post(link, json={"password": f"Brand-New-Horse-{i:02d}"}) for i in range(10))
    )
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] + [400] * 9
    winner = next(i for i, a in enumerate(answers) if a.status_code == 200)
    assert (await login(mclient, f"Brand-New-Horse-{winner:02d}")).status_code == 200


async def test_expired_link_is_refused(mclient: httpx.AsyncClient, mailbox: Mailbox) -> None:
    await register(mclient)
    link = await reset_link(mclient, mailbox)
    await expire_everything(mclient)
    assert (await mclient.get(link)).status_code == 400
    response = await mclient.post(link, json={"password": NEW_PASSWORD})
    assert response.status_code == 400 and response.json()["code"] == "invalid_token"
    assert (await login(mclient, STRONG_PASSWORD)).status_code == 200


async def test_a_weak_password_does_not_use_up_the_link(mclient: httpx.AsyncClient, mailbox: Mailbox) -> None:
    await register(mclient)
    link = await reset_link(mclient, mailbox)
    weak = await mclient.post(link, json={"password": "password"})
    assert weak.status_code == 400 and weak.json()["errors"][0]["field"] == "password"
    missing = await mclient.post(link, json={})
    assert missing.status_code == 400 and missing.json()["errors"][0]["field"] == "password"
    broken = await mclient.post(link, content=b"{not json", headers={"content-type": "application/json"})
    assert broken.status_code == 400
    assert (await mclient.post(link, json={"password": NEW_PASSWORD})).status_code == 200


async def test_reset_voids_other_links_and_codes(mclient: httpx.AsyncClient, mailbox: Mailbox) -> None:
    await register(mclient)
    first = await reset_link(mclient, mailbox, 1)
    second = await reset_link(mclient, mailbox, 2)
    assert first != second
    await mclient.post("/login/magic", json={"email": "ada@example.com"})
    magic = link_in(await mailbox.wait_for("ada@example.com", 3), "/login/magic/")
    await mclient.post("/otp/send", json={"channel": "email", "email": "ada@example.com"})
    await mailbox.wait_for("ada@example.com", 4)

    assert (await mclient.post(second, json={"password": NEW_PASSWORD})).status_code == 200
    assert (await mclient.get(first)).status_code == 400
    assert (await mclient.get(magic)).status_code == 400
    async with runtime(mclient).db() as db:
        codes = list((await db.execute(select(OneTimeSecret).where(OneTimeSecret.purpose.like("code%")))).scalars())
    assert codes and all(c.used_at is not None for c in codes)


async def test_password_change_voids_outstanding_links_and_codes(mclient: httpx.AsyncClient, mailbox: Mailbox) -> None:
    token = (await register(mclient)).json()["token"]
    reset = await reset_link(mclient, mailbox, 1)
    await mclient.post("/login/magic", json={"email": "ada@example.com"})
    magic = link_in(await mailbox.wait_for("ada@example.com", 2), "/login/magic/")
    await mclient.post("/otp/send", json={"channel": "email", "email": "ada@example.com"})
    await mailbox.wait_for("ada@example.com", 3)
    changed = await mclient.put(
        "/user", headers=bearer(token), json={"currentPassword": STRONG_PASSWORD, "password": NEW_PASSWORD}
    )
    assert changed.status_code == 200, changed.text
    assert (await mclient.get(reset)).status_code == 400
    assert (await mclient.get(magic)).status_code == 400
    async with runtime(mclient).db() as db:
        codes = list((await db.execute(select(OneTimeSecret).where(OneTimeSecret.purpose.like("code%")))).scalars())
    assert codes and all(c.used_at is not None for c in codes)


async def test_redirect_to_outside_the_allow_list_is_refused(mclient: httpx.AsyncClient) -> None:
    await register(mclient)
    for trick in ["https://evil.com", "//evil.com", "https://testserver@evil.com", "/\\evil.com", "javascript:x"]:
        response = await mclient.post("/password/forgot", json={"email": "ada@example.com", "redirectTo": trick})
        assert response.status_code == 400, trick
        assert response.json()["errors"][0]["field"] == "redirectTo"
    # Refused the same way for unknown accounts: the check comes before any lookup.
    unknown = await mclient.post("/password/forgot", json={"email": "ghost@example.com", "redirectTo": "//evil.com"})
    assert unknown.status_code == 400


async def test_html_form_flow(messaging_client: MessagingClientFactory, mailbox: Mailbox) -> None:
    """With the hosted pages off, a browser gets the small built-in reset form."""
    async with messaging_client(ui=False) as mclient:
        await register(mclient)
        link = await reset_link(mclient, mailbox, redirectTo="/signed-out?from=<reset>")
        page = await mclient.get(link, headers={"Accept": "text/html,application/xhtml+xml"})
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert '<form method="post" action="">' in page.text and 'name="password"' in page.text
        assert "default-src 'none'" in page.headers["content-security-policy"]
        assert page.headers["referrer-policy"] == "no-referrer"

        weak = await mclient.post(link, data={"password": "short"})
        assert weak.status_code == 400 and "<form" in weak.text
        done = await mclient.post(link, data={"password": NEW_PASSWORD})
        assert done.status_code == 303
        assert done.headers["location"] == "http://testserver/signed-out?from=%3Creset%3E"
        assert (await login(mclient, NEW_PASSWORD)).status_code == 200
        used = await mclient.post(link, data={"password": NEW_PASSWORD})
        assert used.status_code == 400 and "does not work" in used.text


async def test_form_posts_are_refused_elsewhere(mclient: httpx.AsyncClient) -> None:
    """Only the reset form may post a form body; everywhere else stays JSON-only (CSRF)."""
    for path in ["/login", "/password/forgot", "/otp/verify", "/password/reset"]:
        response = await mclient.post(path, data={"email": "ada@example.com"})
        assert response.status_code == 415, path


async def test_html_pages_escape_what_they_show(mclient: httpx.AsyncClient, mailbox: Mailbox) -> None:
    await register(mclient)
    link = await reset_link(mclient, mailbox)
    hostile = '"><script>alert(1)</script>'
    response = await mclient.post(link, data={"password": hostile})
    assert response.status_code == 400
    assert "<script>alert(1)</script>" not in response.text
    assert not re.search(r"<script", response.text, re.IGNORECASE)


async def test_register_without_password_sends_a_reset_link(mclient: httpx.AsyncClient, mailbox: Mailbox) -> None:
    response = await mclient.post(
        "/register", json={"email": "ada@example.com", "options": {"sendResetEmail": True, "sendEmail": True}}
    )
    assert response.status_code == 201, response.text
    await mailbox.wait_for("ada@example.com", 2)
    subjects = sorted(m["Subject"] for m in mailbox.to("ada@example.com"))
    assert subjects == ["Reset your password", "Welcome"]
    reset = next(m for m in mailbox.to("ada@example.com") if m["Subject"] == "Reset your password")
    link = link_in(reset, "/password/reset/")
    assert (await mclient.post(link, json={"password": NEW_PASSWORD})).status_code == 200
    assert (await login(mclient, NEW_PASSWORD)).status_code == 200


async def test_register_with_password_ignores_send_reset_email(mclient: httpx.AsyncClient, mailbox: Mailbox) -> None:
    await register(mclient, options={"sendResetEmail": True})
    assert [r.kind for r in await settled_outbox(mclient)] == []
    assert mailbox.to("ada@example.com") == []


@pytest.mark.parametrize("prefix", ["/auth", "/api/v1/auth"])
async def test_every_prefix_serves_the_flow(mclient: httpx.AsyncClient, mailbox: Mailbox, prefix: str) -> None:
    await register(mclient)
    response = await mclient.post(f"{prefix}/password/forgot", json={"email": "ada@example.com"})
    assert response.status_code == 202
    token = link_in(await mailbox.wait_for("ada@example.com"), "/password/reset/").rsplit("/", 1)[1]
    done = await mclient.post(f"{prefix}/password/reset/{token}", data={"password": NEW_PASSWORD})
    assert done.status_code == 200 and "Password changed" in done.text


async def enable_email_factor(client: httpx.AsyncClient, mailbox: Mailbox, token: str) -> None:
    await client.post("/otp/send", json={"channel": "email", "purpose": "mfa"}, headers=bearer(token))
    code = mail_code(await mailbox.wait_for("ada@example.com", 1))
    on = await client.post(
        "/otp/verify", json={"channel": "email", "code": code, "purpose": "mfa"}, headers=bearer(token)
    )
    assert on.status_code == 200, on.text


async def test_reset_leaves_the_second_factor_on(mclient: httpx.AsyncClient, mailbox: Mailbox) -> None:
    token = (await register(mclient)).json()["token"]
    await enable_email_factor(mclient, mailbox, token)
    link = await reset_link(mclient, mailbox, 2)
    done = await mclient.post(link, json={"password": NEW_PASSWORD})
    assert done.status_code == 200 and "token" not in done.json()  # a reset signs no one in
    # The address was verified when the factor was enrolled, so the reset claims nothing:
    # the factor survives it, and the next sign-in asks for it.
    fresh = await login(mclient, NEW_PASSWORD)
    assert fresh.status_code == 401 and fresh.json()["code"] == "mfa_required"
    assert fresh.json()["mfaMethods"] == ["code"]


async def test_login_after_reset_still_asks_for_the_second_factor(mclient: httpx.AsyncClient, mailbox: Mailbox) -> None:
    token = (await register(mclient)).json()["token"]
    await enable_email_factor(mclient, mailbox, token)
    link = await reset_link(mclient, mailbox, 2)
    assert (await mclient.post(link, json={"password": NEW_PASSWORD})).status_code == 200
    fresh = await login(mclient, NEW_PASSWORD)
    assert fresh.status_code == 401 and fresh.json()["code"] == "mfa_required"
