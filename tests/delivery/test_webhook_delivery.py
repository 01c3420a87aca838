"""Events reach a real HTTP receiver, signed per the Standard Webhooks specification; a
receiver that fails is retried with backoff, one that hangs is timed out, one that never
answers well ends as the dead letter, which can be sent again."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import event
from standardwebhooks.webhooks import Webhook as StandardWebhook
from standardwebhooks.webhooks import WebhookVerificationError

from tests.support.app import runtime, sql
from tests.support.http import STRONG_PASSWORD, bearer, login, register
from tests.support.server import PATIENCE
from tests.support.webhooks import (
    HookClientFactory,
    Received,
    WebhookReceiver,
    deliveries,
    manager_token,
    subscribe,
    wait_deliveries,
)


def signature_by_hand(secret: str, received: Received) -> str:
    """The Standard Webhooks signature computed from its definition, without the library."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{received.headers['webhook-id']}.{received.headers['webhook-timestamp']}.".encode() + received.body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def all_sent(items: list[dict[str, Any]]) -> bool:
    return bool(items) and all(d["status"] == "sent" for d in items)


async def test_an_event_arrives_signed_per_the_standard(hclient: httpx.AsyncClient, receiver: WebhookReceiver) -> None:
    token = await manager_token(hclient)
    hook = await subscribe(hclient, token, receiver.url, ["user.created"])
    user = (await register(hclient, "bea@example.com")).json()["user"]

    [got] = await receiver.wait_for("user.created")
    assert got.headers["content-type"] == "application/json"
    event = got.event
    assert set(event) == {"type", "timestamp", "data"}
    assert event["data"]["userId"] == user["id"] and event["data"]["email"] == "bea@example.com"
    assert event["timestamp"].endswith("Z")
    assert abs(int(got.headers["webhook-timestamp"]) - time.time()) < 60

    # The reference implementation accepts it, and so does the definition computed by hand.
    assert StandardWebhook(hook["secret"]).verify(got.body, got.headers) == event
    assert got.headers["webhook-signature"] == signature_by_hand(hook["secret"], got)
    # A changed body, another secret, or a replayed id with a new timestamp do not verify.
    with pytest.raises(WebhookVerificationError):
        StandardWebhook(hook["secret"]).verify(got.body.replace(b"bea@", b"eve@"), got.headers)
    with pytest.raises(WebhookVerificationError):
        StandardWebhook("whsec_" + base64.b64encode(b"k" * 32).decode()).verify(got.body, got.headers)
    forged = {**got.headers, "webhook-timestamp": str(int(got.headers["webhook-timestamp"]) + 1)}
    with pytest.raises(WebhookVerificationError):
        StandardWebhook(hook["secret"]).verify(got.body, forged)

    [delivery] = await wait_deliveries(hclient, token, hook["id"], all_sent)
    assert delivery["eventType"] == "user.created" and delivery["attempts"] == 1
    assert delivery["eventId"] == got.headers["webhook-id"] and delivery["deliveredAt"]
    assert delivery["lastError"] is None and delivery["nextAttemptAt"] is None


async def test_only_subscribed_events_go_to_a_webhook(hclient: httpx.AsyncClient) -> None:
    token = await manager_token(hclient)
    logins, everything = WebhookReceiver(), WebhookReceiver()
    logins.start()
    everything.start()
    try:
        hook = await subscribe(hclient, token, logins.url, ["user.login", "user.login_failed"])
        await subscribe(hclient, token, everything.url, ["*"])
        await register(hclient, "bea@example.com")
        assert (await hclient.post("/login", json={"email": "bea@example.com", "password": "wrong"})).status_code == 401
        ok = await hclient.post("/login", json={"email": "bea@example.com", "password": STRONG_PASSWORD})
        assert ok.status_code == 200

        await everything.wait_for("user.login")
        await everything.wait_for("user.login_failed")
        await everything.wait_for("user.created")
        # Registering signs in too: two logins, one failure.
        await wait_deliveries(hclient, token, hook["id"], lambda items: len(items) == 3 and all_sent(items))
        assert sorted(r.event["type"] for r in logins.received) == ["user.login", "user.login", "user.login_failed"]
        session_id = jwt.decode(ok.json()["token"], options={"verify_signature": False})["sid"]
        assert session_id in {r.event["data"]["sessionId"] for r in logins.of_type("user.login")}
    finally:
        logins.stop()
        everything.stop()


async def test_an_inactive_webhook_gets_nothing(hclient: httpx.AsyncClient, receiver: WebhookReceiver) -> None:
    token = await manager_token(hclient)
    sleeping = await subscribe(hclient, token, receiver.url, ["user.created"], active=False)
    other = WebhookReceiver()
    other.start()
    try:
        await subscribe(hclient, token, other.url, ["user.created"])
        await register(hclient, "bea@example.com")
        await other.wait_for("user.created")  # the event was fanned out: the inactive one was passed over
        assert await deliveries(hclient, token, sleeping["id"]) == []
        assert receiver.hits == 0
    finally:
        other.stop()


async def test_a_receiver_that_fails_twice_then_succeeds_gets_the_event(
    hclient: httpx.AsyncClient, receiver: WebhookReceiver
) -> None:
    token = await manager_token(hclient)
    hook = await subscribe(hclient, token, receiver.url, ["user.created"])
    receiver.fail = 2
    await register(hclient, "bea@example.com")

    [got] = await receiver.wait_for("user.created")
    [delivery] = await wait_deliveries(hclient, token, hook["id"], all_sent)
    assert receiver.hits == 3 and delivery["attempts"] == 3
    assert delivery["eventId"] == got.headers["webhook-id"]
    assert StandardWebhook(hook["secret"]).verify(got.body, got.headers)


async def test_backoff_doubles_between_attempts(hook_client: HookClientFactory, receiver: WebhookReceiver) -> None:
    async with hook_client(webhook_retry_base_seconds=0.4) as client:
        token = await manager_token(client)
        hook = await subscribe(client, token, receiver.url, ["user.created"])
        receiver.fail = 3
        started = time.monotonic()
        await register(client, "bea@example.com")
        await receiver.wait_for("user.created")
        elapsed = time.monotonic() - started
        # Waits of about 0.4, 0.8 and 1.6 s (each ±20 %): at least 2.2 s in all.
        assert elapsed >= 0.8 * (0.4 + 0.8 + 1.6), elapsed
        [delivery] = await wait_deliveries(client, token, hook["id"], all_sent)
        assert delivery["attempts"] == 4


async def test_a_hanging_receiver_is_timed_out_and_does_not_hold_up_others(
    hook_client: HookClientFactory, receiver: WebhookReceiver
) -> None:
    async with hook_client(webhook_timeout_seconds=1.0) as hclient:
        await _hanging_receiver_is_timed_out(hclient, receiver)


async def _hanging_receiver_is_timed_out(hclient: httpx.AsyncClient, receiver: WebhookReceiver) -> None:
    token = await manager_token(hclient)
    receiver.hold()  # unanswered until the test ends: far beyond the one-second timeout
    stuck = await subscribe(hclient, token, receiver.url, ["user.created"])
    healthy = WebhookReceiver()
    healthy.start()
    try:
        await subscribe(hclient, token, healthy.url, ["user.created"])
        await register(hclient, "bea@example.com")
        await healthy.wait_for("user.created")

        def timed_out(items: list[dict[str, Any]]) -> bool:
            return bool(items) and items[0]["attempts"] >= 2 and "timed out" in (items[0]["lastError"] or "")

        # Only a send that is timed out can fail "timed out": the receiver never answers.
        [delivery] = await wait_deliveries(hclient, token, stuck["id"], timed_out)
        assert delivery["status"] == "pending" and delivery["nextAttemptAt"]
        assert receiver.received == []
    finally:
        healthy.stop()


async def test_the_last_failure_leaves_a_dead_letter_that_can_be_sent_again(
    hook_client: HookClientFactory, receiver: WebhookReceiver
) -> None:
    async with hook_client(webhook_max_attempts=3) as client:
        token = await manager_token(client)
        hook = await subscribe(client, token, receiver.url, ["user.created"])
        receiver.status = 503
        await register(client, "bea@example.com")
        [dead] = await wait_deliveries(
            client, token, hook["id"], lambda items: items and items[0]["status"] == "failed"
        )
        assert dead["attempts"] == 3 and dead["lastError"] == "answered HTTP 503"
        assert dead["nextAttemptAt"] is None and dead["deliveredAt"] is None
        assert receiver.hits == 3

        receiver.status = 200
        again = await client.post(f"/webhooks/{hook['id']}/deliveries/{dead['id']}/redeliver", headers=bearer(token))
        assert again.status_code == 202, again.text
        assert again.json()["status"] == "pending" and again.json()["eventId"] == dead["eventId"]

        [got] = await receiver.wait_for("user.created")
        assert got.headers["webhook-id"] == dead["eventId"]  # the same message, so receivers can drop repeats
        items = await wait_deliveries(client, token, hook["id"], lambda items: items[0]["status"] == "sent")
        assert [d["status"] for d in items] == ["sent", "failed"]  # newest first; the dead letter stays on record
        audit = (await client.get("/audit/logs?type=webhook.redelivered", headers=bearer(token))).json()["items"]
        assert audit[0]["data"]["delivery"] == dead["id"]


async def test_after_a_rotation_both_secrets_sign_until_the_grace_period_ends(
    hclient: httpx.AsyncClient, receiver: WebhookReceiver
) -> None:
    token = await manager_token(hclient)
    hook = await subscribe(hclient, token, receiver.url, ["user.created"])
    rotated = await hclient.post(
        f"/webhooks/{hook['id']}/rotate-secret", headers=bearer(token), json={"graceSeconds": 3600}
    )
    assert rotated.status_code == 200, rotated.text
    assert rotated.headers["cache-control"] == "no-store"
    new = rotated.json()
    assert new["secret"].startswith("whsec_") and new["secret"] != hook["secret"]
    assert new["previousSecretExpiresAt"]

    await register(hclient, "bea@example.com")
    [got] = await receiver.wait_for("user.created")
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    for secret in (new["secret"], hook["secret"]):  # a receiver on either secret accepts it
        assert StandardWebhook(secret).verify(got.body, got.headers)

    cut = await hclient.post(f"/webhooks/{hook['id']}/rotate-secret", headers=bearer(token), json={"graceSeconds": 0})
    assert cut.status_code == 200 and cut.json()["previousSecretExpiresAt"] is None
    await register(hclient, "cy@example.com")
    [_, later] = await receiver.wait_for("user.created", 2)
    assert StandardWebhook(cut.json()["secret"]).verify(later.body, later.headers)
    for old in (new["secret"], hook["secret"]):
        with pytest.raises(WebhookVerificationError):
            StandardWebhook(old).verify(later.body, later.headers)

    bad = await hclient.post(f"/webhooks/{hook['id']}/rotate-secret", headers=bearer(token), json={"graceSeconds": -1})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "graceSeconds"


async def test_switching_a_webhook_off_cancels_what_it_has_not_been_sent(
    hclient: httpx.AsyncClient, receiver: WebhookReceiver
) -> None:
    token = await manager_token(hclient)
    hook = await subscribe(hclient, token, receiver.url, ["user.created"])
    receiver.status = 500
    await register(hclient, "bea@example.com")
    await wait_deliveries(hclient, token, hook["id"], lambda items: bool(items) and items[0]["attempts"] >= 1)
    off = await hclient.put(f"/webhooks/{hook['id']}", headers=bearer(token), json={"active": False})
    assert off.status_code == 200
    [delivery] = await wait_deliveries(hclient, token, hook["id"], lambda items: items[0]["status"] == "cancelled")
    hits = receiver.hits
    await register(hclient, "cy@example.com")  # no new delivery for a webhook that is off
    assert len(await deliveries(hclient, token, hook["id"])) == 1
    assert receiver.hits == hits and delivery["deliveredAt"] is None


async def test_deliveries_page_newest_first(hclient: httpx.AsyncClient, receiver: WebhookReceiver) -> None:
    token = await manager_token(hclient)
    hook = await subscribe(hclient, token, receiver.url, ["user.created"])
    for n in range(5):
        await register(hclient, f"user{n}@example.com")
    await receiver.wait_for("user.created", 5)
    seen: list[str] = []
    cursor = None
    while True:
        query = f"?limit=2&cursor={cursor}" if cursor else "?limit=2"
        page = (await hclient.get(f"/webhooks/{hook['id']}/deliveries{query}", headers=bearer(token))).json()
        seen += [d["id"] for d in page["items"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 5
    bad = await hclient.get(f"/webhooks/{hook['id']}/deliveries?cursor=garbage", headers=bearer(token))
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "cursor"


async def undispatched(client: httpx.AsyncClient) -> int:
    [(count,)] = await sql(client, "SELECT count(*) FROM events WHERE dispatched_at IS NULL")
    return int(count)


async def test_each_event_is_fanned_out_once_in_the_transaction_that_claims_it(
    hclient: httpx.AsyncClient, receiver: WebhookReceiver
) -> None:
    token = await manager_token(hclient)
    await subscribe(hclient, token, receiver.url, ["*"])
    await register(hclient, "bea@example.com")
    await receiver.wait_for("user.created")
    assert await undispatched(hclient) == 0
    per_event = await sql(
        hclient, "SELECT event_id, count(*) FROM outbox WHERE channel = 'webhook' GROUP BY event_id HAVING count(*) > 1"
    )
    assert per_event == []


async def until_every_event_is_dispatched(client: httpx.AsyncClient) -> None:
    deadline = time.monotonic() + PATIENCE
    while await undispatched(client):
        assert time.monotonic() < deadline, "events were left undispatched"
        await asyncio.sleep(0.02)


def is_the_couriers(statement: str) -> bool:
    return any(table in statement for table in (" events", " outbox", "(outbox", " webhooks"))


async def until_the_courier_rests(client: httpx.AsyncClient) -> None:
    """Until the courier runs no statement for 0.3 s: it has ended its pass, and none is
    pending (one woken meanwhile starts after at most 75 ms of settling, on this same loop)."""
    engine = runtime(client).engine.sync_engine
    seen = 0

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        nonlocal seen
        seen += is_the_couriers(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        deadline = time.monotonic() + PATIENCE
        while True:
            before = seen
            await asyncio.sleep(0.3)
            if seen == before:
                return
            assert time.monotonic() < deadline, "the courier never rested"
    finally:
        event.remove(engine, "before_cursor_execute", count)


async def test_events_wake_the_courier_only_while_a_webhook_listens(
    hclient: httpx.AsyncClient, receiver: WebhookReceiver
) -> None:
    """With no webhook active a new event does not wake the courier (every sign-in would cost
    it a pass for nothing): its poll stamps them all at once. A new webhook wakes it again, in
    this process at once."""
    courier = runtime(hclient).courier
    courier.poll_seconds = 3600  # from its next wait on, only a wake-up starts a pass
    token = await manager_token(hclient)
    courier.poke()
    await until_every_event_is_dispatched(hclient)  # and the pass found no webhook
    await until_the_courier_rests(hclient)

    [(before,)] = await sql(hclient, "SELECT count(*) FROM events")
    await register(hclient, "bea@example.com")
    await asyncio.sleep(0.3)  # six times the courier's settling pause after a wake-up
    [(after,)] = await sql(hclient, "SELECT count(*) FROM events")
    assert after > before and await undispatched(hclient) == after - before  # all still waiting

    await subscribe(hclient, token, receiver.url, ["user.created"])
    await until_every_event_is_dispatched(hclient)  # bea's event came before the webhook: not sent
    await register(hclient, "cy@example.com")
    [got] = await receiver.wait_for("user.created")
    assert got.event["data"]["email"] == "cy@example.com"


async def test_a_wake_up_costs_the_courier_one_pass(hclient: httpx.AsyncClient, receiver: WebhookReceiver) -> None:
    """A pass that took less than a batch took everything there was: once it has fanned the
    new event out and sent its delivery, the courier rests instead of looking again at once
    (it used to, and every sign-in paid for two passes)."""
    runtime(hclient).courier.poll_seconds = 3600
    token = await manager_token(hclient)
    await subscribe(hclient, token, receiver.url, ["user.login"])
    await register(hclient, "bea@example.com")
    await until_every_event_is_dispatched(hclient)
    await until_the_courier_rests(hclient)
    ran: list[str] = []
    logins = len(receiver.of_type("user.login"))

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        ran.append(statement.split("\n")[0].strip())

    engine = runtime(hclient).engine.sync_engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        await login(hclient, "bea@example.com")  # one transaction, one event
        await receiver.wait_for("user.login", logins + 1)
        await asyncio.sleep(0.3)  # a second look would have begun
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    looks = [n for n, statement in enumerate(ran) if statement == "SELECT events.id"]
    assert len(looks) == 1, ran
    rested = [statement for statement in ran[looks[0] :] if statement.startswith("SELECT min(outbox.next_attempt_at)")]
    assert rested, ran  # the pass ended and the courier went to rest, having looked once
