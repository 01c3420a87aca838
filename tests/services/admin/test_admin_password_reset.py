"""`POST /user/{id}/password-reset`: an administrator has the reset mail of `POST /password/forgot`
sent to an account, through the same flow (link, lifetime, voiding, sending limits)."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from authgate.services.admin import users as users_admin
from authgate.storage.models import OneTimeSecret
from tests.support.app import runtime
from tests.support.audit import logs
from tests.support.delivery import MessagingClientFactory
from tests.support.http import STRONG_PASSWORD, admin_token, bearer, register
from tests.support.limits import assert_limited
from tests.support.mail import Mailbox, link_in

ADA = "ada@example.com"
NEW_PASSWORD = "Brand-New-Horse-77"
UNKNOWN = "00000000-0000-0000-0000-000000000000"


def assert_problem(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["code"] == code, response.text


async def an_admin(client: httpx.AsyncClient) -> dict[str, str]:
    headers = bearer(await admin_token(client))
    client.cookies.clear()
    return headers


async def test_the_reset_mail_arrives_and_its_link_works(mclient: httpx.AsyncClient, mailbox: Mailbox) -> None:
    registered = (await register(mclient, ADA)).json()
    ada_id, old_token = registered["user"]["id"], registered["token"]
    admin = await an_admin(mclient)
    admin_id = (await mclient.get("/user", headers=admin)).json()["id"]

    response = await mclient.post(f"/user/{ada_id}/password-reset", headers=admin)
    assert response.status_code == 202, response.text
    assert set(response.json()) == {"message"}
    mail = await mailbox.wait_for(ADA)
    assert mail["Subject"] == "Reset your password"  # the forgot flow's own mail
    link = link_in(mail, "/password/reset/")
    assert link.startswith("http://testserver/password/reset/")

    [entry] = (await logs(mclient, admin, userId=ada_id, type="password.reset_requested"))["items"]
    assert entry["actorId"] == admin_id and entry["userId"] == ada_id

    assert (await mclient.get(link)).json() == {"valid": True}
    assert (await mclient.post(link, json={"password": NEW_PASSWORD})).status_code == 200
    assert (await mclient.get("/user", headers=bearer(old_token))).status_code == 401  # sessions ended, as a reset does
    signed_in = await mclient.post("/login", json={"email": ADA, "password": NEW_PASSWORD})
    assert signed_in.status_code == 200, signed_in.text
    assert (await mclient.post(link, json={"password": "Another-Horse-88"})).status_code == 400  # used up


async def test_the_same_lifetime_and_voiding_as_the_forgot_flow(mclient: httpx.AsyncClient, mailbox: Mailbox) -> None:
    ada_id = (await register(mclient, ADA)).json()["user"]["id"]
    admin = await an_admin(mclient)
    assert (await mclient.post("/password/forgot", json={"email": ADA})).status_code == 202
    forgot = link_in(await mailbox.wait_for(ADA, 1), "/password/reset/")
    assert (await mclient.post(f"/user/{ada_id}/password-reset", headers=admin)).status_code == 202
    sent = link_in(await mailbox.wait_for(ADA, 2), "/password/reset/")
    assert sent != forgot

    async with runtime(mclient).db() as db:
        rows = list(
            (
                await db.execute(
                    select(OneTimeSecret).where(
                        OneTimeSecret.purpose == "reset_password", OneTimeSecret.user_id == ada_id
                    )
                )
            ).scalars()
        )
    lifetimes = {round((row.expires_at - row.created_at).total_seconds()) for row in rows}
    assert len(rows) == 2 and lifetimes == {3600}

    # Either link works until a password is set; then the other one is void.
    assert (await mclient.get(forgot)).status_code == 200
    assert (await mclient.post(sent, json={"password": NEW_PASSWORD})).status_code == 200
    assert_problem(await mclient.get(forgot), 400, "invalid_token")


async def test_refusals(mclient: httpx.AsyncClient, mailbox: Mailbox) -> None:
    ada_id = (await register(mclient, ADA)).json()["user"]["id"]
    admin = await an_admin(mclient)
    viewer_role = await mclient.post("/roles", headers=admin, json={"name": "viewer", "caps": ["users:read"]})
    assert viewer_role.status_code == 201
    await users_admin.create_user(
        runtime(mclient), email="viewer@example.com", password=STRONG_PASSWORD, role="viewer", verified=True
    )
    viewer = bearer(
        (await mclient.post("/login", json={"email": "viewer@example.com", "password": STRONG_PASSWORD})).json()[
            "token"
        ]
    )
    mclient.cookies.clear()

    assert_problem(await mclient.post(f"/user/{ada_id}/password-reset"), 401, "invalid_token")
    assert_problem(await mclient.post(f"/user/{ada_id}/password-reset", headers=viewer), 403, "forbidden")
    assert_problem(await mclient.post(f"/user/{UNKNOWN}/password-reset", headers=admin), 404, "not_found")
    disabled = await mclient.put(f"/user/{ada_id}", headers=admin, json={"disabled": True})
    assert disabled.status_code == 200, disabled.text
    assert_problem(await mclient.post(f"/user/{ada_id}/password-reset", headers=admin), 409, "conflict")
    assert (await logs(mclient, admin, type="password.reset_requested"))["items"] == []
    assert mailbox.to(ADA) == []


async def test_the_sending_limit_per_recipient_holds(
    messaging_client: MessagingClientFactory, mailbox: Mailbox
) -> None:
    async with messaging_client(rate_limits="send.recipient=2/minute") as client:
        ada_id = (await register(client, ADA)).json()["user"]["id"]
        admin = await an_admin(client)
        assert (await client.post("/password/forgot", json={"email": ADA})).status_code == 202
        assert (await client.post(f"/user/{ada_id}/password-reset", headers=admin)).status_code == 202
        refused = await client.post(f"/user/{ada_id}/password-reset", headers=admin)
        assert_limited(refused, limit=2)  # the forgot flow's mail counted toward the same limit
        await mailbox.wait_for(ADA, 2)
        entries = (await logs(client, admin, userId=ada_id, type="password.reset_requested"))["items"]
        assert len(entries) == 1  # the refused request left no entry
