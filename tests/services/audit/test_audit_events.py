"""Every security event lands in the audit trail with its time, type, user, actor, address and
User-Agent, and no entry (nor any outbox event) holds a secret."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.support.app import CLIENT_IP, ClientFactory, sql
from tests.support.audit import AGENT, auditor, verdict
from tests.support.delivery import delivery_settings
from tests.support.http import STRONG_PASSWORD, bearer
from tests.support.mail import Mailbox, link_in
from tests.support.mfa import Authenticator
from tests.support.oidc_provider import TestProvider
from tests.support.social import APP, oidc_provider, through_provider

NEW_PASSWORD = "Brand-New-Horse-77"
RESET_PASSWORD = "Reset-River-Stone-58"
EVENTS = {
    "user.created",
    "user.login",
    "user.login_failed",
    "user.locked",
    "session.revoked",
    "refresh_token.reused",
    "password.changed",
    "password.reset",
    "email.verified",
    "account.claimed",
    "mfa.enabled",
    "mfa.disabled",
    "oauth.linked",
}


class Flows:
    """Drives each flow as a client would, remembering every secret it handles."""

    def __init__(self, client: httpx.AsyncClient, mailbox: Mailbox) -> None:
        self.client = client
        self.mailbox = mailbox
        self.secrets: set[str] = {STRONG_PASSWORD, NEW_PASSWORD, RESET_PASSWORD}

    def keep(self, *values: Any) -> None:
        self.secrets.update(v for v in values if isinstance(v, str) and v)

    async def post(self, path: str, body: dict[str, Any], token: str | None = None) -> httpx.Response:
        headers = bearer(token) if token else {}
        return await self.client.post(path, json=body, headers=headers)

    async def register(self, email: str) -> dict[str, Any]:
        response = await self.post("/register", {"email": email, "password": STRONG_PASSWORD})
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        self.keep(body["token"], body["refreshToken"])
        return body

    async def login(self, email: str, password: str = STRONG_PASSWORD) -> dict[str, Any]:
        response = await self.post("/login", {"email": email, "password": password})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        self.keep(body["token"], body["refreshToken"])
        return body

    async def link(self, email: str, path: str, count: int = 1) -> str:
        url = link_in(await self.mailbox.wait_for(email, count), path)
        self.keep(url.rsplit("/", 1)[1])
        return url


async def drive_every_flow(flows: Flows, op: TestProvider) -> None:
    client = flows.client
    # Sign-in, sessions and refresh tokens: ada.
    ada = await flows.register("ada@example.com")
    await flows.login("ada@example.com")
    sessions = (await client.get("/sessions", headers=bearer(ada["token"]))).json()
    other = next(s["id"] for s in sessions if not s["current"])
    assert (await client.delete(f"/sessions/{other}", headers=bearer(ada["token"]))).status_code == 204
    third = await flows.login("ada@example.com")
    rotated = (await flows.post("/refresh", {"refreshToken": third["refreshToken"]})).json()
    flows.keep(rotated["accessToken"], rotated["refreshToken"])
    assert (await flows.post("/refresh", {"refreshToken": third["refreshToken"]})).status_code == 401  # reused
    await flows.login("ada@example.com")  # another device, for the password change to end
    changed = await client.put(
        "/user",
        headers=bearer(ada["token"]),
        json={"password": NEW_PASSWORD, "currentPassword": STRONG_PASSWORD},
    )
    assert changed.status_code == 200, changed.text
    # A provider linked to ada's account.
    op.login_as("ada-1", email="ada@example.com", email_verified=True)
    start = await flows.post("/oauth/link", {"provider": "acme"}, ada["token"])
    assert start.status_code == 200, start.text
    assert (await through_provider(client, start.json()["authorizationUrl"])).status_code == 200
    assert (await flows.post("/logout", {}, ada["token"])).status_code == 200

    # Lockout: eve's password guessed five times.
    await flows.register("eve@example.com")
    for _ in range(5):
        await flows.post("/login", {"email": "eve@example.com", "password": "Wrong-Horse-41"})

    # Email verification (the first proof of bob's address also claims the account).
    await flows.register("bob@example.com")
    assert (await flows.post("/email/verify", {"email": "bob@example.com"})).status_code == 202
    assert (await client.get(await flows.link("bob@example.com", "/email/verify/"))).status_code == 200

    # Password reset: cat.
    await flows.register("cat@example.com")
    assert (await flows.post("/password/forgot", {"email": "cat@example.com"})).status_code == 202
    reset = await flows.link("cat@example.com", "/password/reset/")
    assert (await client.post(reset, json={"password": RESET_PASSWORD})).status_code == 200

    # An authenticator turned on and off: dan.
    dan = await flows.register("dan@example.com")
    setup = (await flows.post("/mfa/setup", {}, dan["token"])).json()
    app = Authenticator(setup["secret"])
    first, second_code = await app.code(), await app.code()
    enabled = await flows.post("/mfa/enable", {"secret": setup["secret"], "verificationCode": first}, dan["token"])
    assert enabled.status_code == 200, enabled.text
    flows.keep(setup["secret"], setup["otpauthUrl"], first, second_code, *enabled.json()["recoveryCodes"])
    mfa = await flows.post("/login", {"email": "dan@example.com", "password": STRONG_PASSWORD})
    flows.keep(mfa.json()["mfaToken"])
    assert (await flows.post("/mfa/disable", {"verificationCode": second_code}, dan["token"])).status_code == 200


async def test_every_security_event_is_recorded_with_who_and_where(
    make_client: ClientFactory, mailbox: Mailbox, op: TestProvider
) -> None:
    settings = {
        **delivery_settings(mailbox),
        "oauth_providers": {"acme": oidc_provider(op)},
        "redirect_allowlist": [APP],
        "refresh_reuse_grace_seconds": 0,
    }
    async with make_client(**settings) as client:
        client.headers["User-Agent"] = AGENT
        flows = Flows(client, mailbox)
        await drive_every_flow(flows, op)

        rows = await sql(client, "SELECT type, at, user_id, actor_id, ip_address, user_agent, data FROM audit_log")
        assert EVENTS <= {row[0] for row in rows}, EVENTS - {row[0] for row in rows}
        for kind, at, user_id, actor_id, ip, agent, _ in rows:
            assert at is not None and user_id and actor_id, kind
            assert (ip, agent) == (CLIENT_IP, AGENT), kind
        reasons = {row[6] for row in rows if row[0] == "session.revoked"}
        for reason in ("revoked_by_user", "refresh_token_reuse", "password_changed", "logout"):
            assert any(f'"reason":"{reason}"' in (data or "") for data in reasons), reason

        # No secret in any column of any entry, nor in the events waiting for delivery.
        await asyncio.sleep(0)
        stored = await sql(client, "SELECT * FROM audit_log")
        stored += await sql(client, "SELECT * FROM events")
        text = "\n".join(str(value) for row in stored for value in row)
        # A six-digit code could turn up inside a hash or a timestamp by chance: short secrets
        # count as leaked when they appear as a JSON value.
        leaked = sorted(s for s in flows.secrets if (s if len(s) >= 16 else f'"{s}"') in text)
        assert not leaked, f"secrets in the audit trail or the events: {len(leaked)}"
        assert (await verdict(client)).ok


async def test_an_admin_acting_on_someone_is_the_actor(client: httpx.AsyncClient) -> None:
    user_id = (await client.post("/register", json={"email": "ada@example.com", "password": STRONG_PASSWORD})).json()[
        "user"
    ]["id"]
    headers = await auditor(client)
    admin_id = (await client.get("/user", headers=headers)).json()["id"]
    assert (await client.post(f"/user/{user_id}/unlock", headers=headers)).status_code == 200
    rows = await sql(client, "SELECT user_id, actor_id FROM audit_log WHERE type = 'user.unlocked'")
    assert [tuple(r) for r in rows] == [(user_id, admin_id)]
