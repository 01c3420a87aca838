"""Every check of a secret that fails is recorded once, in the one place the gate keeps
(`signin.counting`): wherever the secret is entered, whatever its kind. Lockout counts from
there, so a check that is not recorded would be a free guess. (The lockout threshold is
raised here, so that the sixth wrong secret is still checked; tests/abuse locks.)"""

from __future__ import annotations

import httpx

from tests.support.app import sql
from tests.support.delivery import MessagingClientFactory
from tests.support.http import STRONG_PASSWORD, bearer, register
from tests.support.mail import Mailbox, mail_code
from tests.support.mfa import enrol, mfa_token


async def _failures(client: httpx.AsyncClient) -> list[tuple[object, ...]]:
    return await sql(client, "SELECT user_id, data FROM audit_log WHERE type = 'user.login_failed' ORDER BY at")


async def test_wrong_secrets_everywhere_are_each_recorded_once(
    messaging_client: MessagingClientFactory, mailbox: Mailbox
) -> None:
    async with messaging_client(lockout_threshold=50) as mclient:
        await _every_secret_check(mclient, mailbox)


async def _every_secret_check(mclient: httpx.AsyncClient, mailbox: Mailbox) -> None:
    account = await enrol(mclient)
    other = (await register(mclient, email="bea@example.com")).json()
    setup = await mclient.post("/mfa/setup", headers=bearer(other["accessToken"]))
    auth = account.headers
    wrong_code = account.app.wrong_code()
    attempts = [
        ("password", mclient.post("/login", json={"email": account.email, "password": "Wrong-Pass-123"})),
        ("inline second factor", mclient.post("/login", json=account.login_body(mfaCode=wrong_code))),
        (
            "mfaToken second step",
            mclient.post("/mfa/verify", json={"mfaToken": await mfa_token(mclient, account), "code": wrong_code}),
        ),
        (
            "current password",
            mclient.put(
                "/user", headers=auth, json={"currentPassword": "Wrong-Pass-123", "password": "Another-Pass-456"}
            ),
        ),
        ("factor to turn TOTP off", mclient.post("/mfa/disable", headers=auth, json={"verificationCode": wrong_code})),
        (
            "code that turns TOTP on",
            mclient.post(
                "/mfa/enable",
                headers=bearer(other["accessToken"]),
                json={"secret": setup.json()["secret"], "verificationCode": "000000"},
            ),
        ),
    ]
    owners = [account.user_id] * (len(attempts) - 1) + [other["user"]["id"]]
    for (what, attempt), owner in zip(attempts, owners, strict=True):
        before = len(await _failures(mclient))
        response = await attempt
        assert response.status_code in (400, 401), (what, response.text)
        after = await _failures(mclient)
        assert len(after) == before + 1, what
        assert after[-1][0] == owner, what

    await mclient.post("/otp/send", json={"channel": "email", "email": account.email})
    code = mail_code(await mailbox.wait_for(account.email))
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    response = await mclient.post("/otp/verify", json={"channel": "email", "email": account.email, "code": wrong})
    assert response.status_code == 401
    assert len(await _failures(mclient)) == len(attempts) + 1


async def test_unknown_accounts_are_recorded_too(client: httpx.AsyncClient) -> None:
    await register(client)
    await client.post("/login", json={"email": "ghost@example.com", "password": STRONG_PASSWORD})
    assert [row[0] for row in await _failures(client)] == [None]


async def test_a_right_secret_records_no_failure(client: httpx.AsyncClient) -> None:
    token = (await register(client)).json()["token"]
    await client.post("/login", json={"email": "ada@example.com", "password": STRONG_PASSWORD})
    changed = await client.put(
        "/user", headers=bearer(token), json={"currentPassword": STRONG_PASSWORD, "password": "Another-Pass-456"}
    )
    assert changed.status_code == 200
    assert await _failures(client) == []
