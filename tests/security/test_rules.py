"""The rules that hold everywhere, each attacked from outside and named after the rule or
advisory it guards. (Deeper attacks on one part live beside that part's other tests; the
table in docs/security.md names both.)"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import httpx
import pytest

from tests.support.delivery import MessagingClientFactory
from tests.support.http import STRONG_PASSWORD, admin_token, bearer, register
from tests.support.mail import Mailbox, link_in, mail_code
from tests.support.mfa import enrol

ADA = "ada@example.com"
NEW_PASSWORD = "Another-Strong-Pass-456"


async def test_asvs_6_2_8_the_whole_password_counts_beyond_72_bytes(client: httpx.AsyncClient) -> None:
    password = "Aa1" + "b" * 80 + "X"
    await register(client, "long@example.com", password)
    same_prefix = password[:-1] + "Y"
    refused = await client.post("/login", json={"email": "long@example.com", "password": same_prefix})
    assert refused.status_code == 401
    accepted = await client.post("/login", json={"email": "long@example.com", "password": password})
    assert accepted.status_code == 200


async def test_asvs_6_2_11_common_passwords_are_refused_case_insensitively(client: httpx.AsyncClient) -> None:
    for password in ("Password1", "QWERTY123", "Iloveyou1"):
        response = await client.post("/register", json={"email": "c@example.com", "password": password})
        assert response.status_code == 400, password
        assert any("common" in e["message"] for e in response.json()["errors"])


async def test_asvs_6_2_11_own_email_or_username_as_password_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/register", json={"email": "Owner.Name1@example.com", "password": "Owner.Name1@example.com"}
    )
    assert response.status_code == 400
    assert any("email" in e["message"] for e in response.json()["errors"])
    response = await client.post(
        "/register", json={"email": "o@example.com", "username": "Cool.User9", "password": "cool.user9"}
    )
    assert response.status_code == 400


async def test_keycloak_cve_2018_14657_a_disabled_account_cannot_sign_in_any_way(
    mclient: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    """Every way in passes one gate: once an administrator disables the account, its password,
    a magic link and an email code sent before, its refresh token and its access token all stop."""
    signed_in = (await register(mclient, ADA)).json()
    assert (await mclient.post("/login/magic", json={"email": ADA})).status_code == 202
    magic = link_in(await mailbox.wait_for(ADA, 1), "/login/magic/")
    assert (await mclient.post("/otp/send", json={"channel": "email", "email": ADA})).status_code == 202
    code = mail_code(await mailbox.wait_for(ADA, 2))
    admin = await admin_token(mclient)
    disabled = await mclient.put(f"/user/{signed_in['user']['id']}", headers=bearer(admin), json={"disabled": True})
    assert disabled.status_code == 200, disabled.text

    password = await mclient.post("/login", json={"email": ADA, "password": STRONG_PASSWORD})
    link = await mclient.get(magic)
    by_code = await mclient.post("/otp/verify", json={"channel": "email", "email": ADA, "code": code})
    for refused in (password, link, by_code):
        assert refused.status_code == 403 and refused.json()["code"] == "account_disabled", refused.text
    refreshed = await mclient.post("/token/refresh", json={"refreshToken": signed_in["refreshToken"]})
    assert refreshed.status_code == 401
    assert (await mclient.get("/user", headers=bearer(signed_in["token"]))).status_code == 401


Use = Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]


async def _one_time_thing(kind: str, client: httpx.AsyncClient, mailbox: Mailbox) -> Use:
    """Prepare one `kind` of one-time thing; return its use."""
    if kind == "recovery_code":
        account = await enrol(client, ADA)
        body = account.login_body(mfaCode=account.recovery_codes[0])
        return lambda c: c.post("/login", json=body)
    registered = (await register(client, ADA)).json()
    if kind == "refresh_token":
        return lambda c: c.post("/token/refresh", json={"refreshToken": registered["refreshToken"]})
    if kind == "email_code":
        assert (await client.post("/otp/send", json={"channel": "email", "email": ADA})).status_code == 202
        code = mail_code(await mailbox.wait_for(ADA, 1))
        return lambda c: c.post("/otp/verify", json={"channel": "email", "email": ADA, "code": code})
    asked, path = {
        "reset_link": ("/password/forgot", "/password/reset/"),
        "verify_link": ("/email/verify", "/email/verify/"),
        "magic_link": ("/login/magic", "/login/magic/"),
    }[kind]
    assert (await client.post(asked, json={"email": ADA})).status_code == 202
    link = link_in(await mailbox.wait_for(ADA, 1), path)
    if kind == "reset_link":
        return lambda c: c.post(link, json={"password": NEW_PASSWORD})
    return lambda c: c.get(link)


@pytest.mark.parametrize(
    "kind", ["reset_link", "verify_link", "magic_link", "email_code", "recovery_code", "refresh_token"]
)
async def test_gotrue_2612_every_one_time_thing_is_used_once_under_parallel_requests(
    messaging_client: MessagingClientFactory, mailbox: Mailbox, kind: str
) -> None:
    """Ten uses at once, on SQLite and PostgreSQL: exactly one succeeds (GoTrue #2612, Kratos
    HackerOne #3692149). Refresh tokens without the grace window, which would otherwise hand
    the same new pair to the others on purpose. (mfaTokens and TOTP codes: tests/methods/mfa/test_mfa_races.py;
    OAuth state: tests/methods/oauth/test_callback_attacks.py.)"""
    async with messaging_client(refresh_reuse_grace_seconds=0) as client:
        use = await _one_time_thing(kind, client, mailbox)
        answers = await asyncio.gather(*(use(client) for _ in range(10)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses[0] == 200 and all(s >= 400 for s in statuses[1:]), statuses
    assert all(s < 500 for s in statuses), statuses
