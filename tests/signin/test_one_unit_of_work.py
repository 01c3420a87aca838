"""Each multi-step change is one transaction: a real database fault injected between its
steps leaves nothing half-done (and no audit entry or event for a change that did not
happen). On SQLite and PostgreSQL."""

from __future__ import annotations

import httpx

from tests.support.app import sql
from tests.support.databases import fault
from tests.support.http import STRONG_PASSWORD, bearer, register, tolerant
from tests.support.mail import Mailbox, link_in
from tests.support.mfa import enrol

NEW_PASSWORD = "Brand-New-Pass-9"


async def _login(client: httpx.AsyncClient, password: str) -> httpx.Response:
    return await client.post("/login", json={"email": "ada@example.com", "password": password})


async def test_password_change_with_a_fault_before_revoking_changes_nothing(mclient: httpx.AsyncClient) -> None:
    current = (await register(mclient)).json()
    other = (await _login(mclient, STRONG_PASSWORD)).json()  # a second session, to be revoked
    change = {"currentPassword": STRONG_PASSWORD, "password": NEW_PASSWORD}
    async with fault(mclient, table="sessions", when="UPDATE OF revoked_at"), tolerant(mclient) as browser:
        failed = await browser.put("/user", headers=bearer(current["token"]), json=change)
    assert failed.status_code == 500 and failed.json()["code"] == "internal_error"
    assert "injected" not in failed.text
    assert (await _login(mclient, STRONG_PASSWORD)).status_code == 200  # the old password still works
    assert (await _login(mclient, NEW_PASSWORD)).status_code == 401
    assert (await mclient.get("/user", headers=bearer(other["token"]))).status_code == 200
    assert await sql(mclient, "SELECT count(*) FROM audit_log WHERE type = 'user.updated'") == [(0,)]
    done = await mclient.put("/user", headers=bearer(current["token"]), json=change)
    assert done.status_code == 200
    assert (await mclient.get("/user", headers=bearer(other["token"]))).status_code == 401


async def test_reset_with_a_fault_before_revoking_changes_nothing(mclient: httpx.AsyncClient, mailbox: Mailbox) -> None:
    session = (await register(mclient)).json()
    await mclient.post("/password/forgot", json={"email": "ada@example.com"})
    reset = link_in(await mailbox.wait_for("ada@example.com"), "/password/reset/")
    async with fault(mclient, table="sessions", when="UPDATE OF revoked_at"), tolerant(mclient) as browser:
        failed = await browser.post(reset, json={"password": NEW_PASSWORD})
    assert failed.status_code == 500
    assert (await _login(mclient, NEW_PASSWORD)).status_code == 401
    assert (await mclient.get("/user", headers=bearer(session["token"]))).status_code == 200
    assert (await mclient.get(reset)).status_code == 200  # the link was not used up either
    assert (await mclient.post(reset, json={"password": NEW_PASSWORD})).status_code == 200
    assert (await _login(mclient, NEW_PASSWORD)).status_code == 200
    assert (await mclient.get("/user", headers=bearer(session["token"]))).status_code == 401


async def test_mfa_disable_with_a_fault_half_way_changes_nothing(client: httpx.AsyncClient) -> None:
    account = await enrol(client)
    code = await account.app.code()
    async with fault(client, table="mfa_recovery_codes", when="DELETE"), tolerant(client) as browser:
        failed = await browser.post("/mfa/disable", headers=account.headers, json={"verificationCode": code})
    assert failed.status_code == 500
    step = await client.post("/login", json=account.login_body())
    assert step.status_code == 401 and step.json()["code"] == "mfa_required"  # TOTP is still on
    assert (await client.get("/user", headers=account.headers)).json()["mfaEnabled"] is True
    off = await client.post(
        "/mfa/disable", headers=account.headers, json={"verificationCode": account.recovery_codes[0]}
    )
    assert off.status_code == 200, off.text
    assert (await client.get("/user", headers=account.headers)).json()["mfaEnabled"] is False


async def test_a_sign_in_writes_its_audit_entry_and_event(client: httpx.AsyncClient) -> None:
    await register(client)
    await _login(client, STRONG_PASSWORD)
    await _login(client, "Wrong-Pass-123")
    audit = await sql(client, "SELECT type FROM audit_log ORDER BY at")
    events = await sql(client, "SELECT type, data FROM events ORDER BY at")
    assert [t for (t,) in audit] == ["user.created", "user.login", "user.login", "user.login_failed"]
    assert [t for t, _ in events] == ["user.created", "user.login", "user.login", "user.login_failed"]
    assert all(STRONG_PASSWORD not in str(data) for _, data in events)
