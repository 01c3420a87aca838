"""The purge deletes what is past its age and nothing else, on SQLite and PostgreSQL. Rows
come from real requests; only their times are moved into the past, with SQL."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import jwt
from sqlalchemy import event, update

from authgate.runtime import key_ring as keys
from authgate.runtime import retention
from authgate.storage.models import EventRecord, OneTimeSecret, OutboxMessage, Session, SigningKey, utcnow
from tests.support.app import ClientFactory, runtime, sql
from tests.support.http import STRONG_PASSWORD, admin_token, bearer, register
from tests.support.retention import LONG_AGO, RECENTLY, ago, ask_for_everything, column, count, settled, stop_courier
from tests.support.server import PATIENCE
from tests.support.webhooks import FAST_WEBHOOKS, WebhookReceiver, subscribe

NO_SCHEDULE = {"retention_interval_seconds": 0}  # the tests run the purge themselves


async def login(client: httpx.AsyncClient, email: str = "ada@example.com") -> dict[str, Any]:
    response = await client.post("/login", json={"email": email, "password": STRONG_PASSWORD})
    assert response.status_code == 200, response.text
    client.cookies.clear()  # each test says which token it sends
    body: dict[str, Any] = response.json()
    return body


async def refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    response = await client.post("/refresh", json={"refreshToken": token})
    client.cookies.clear()
    return response


def session_id(access_token: str) -> str:
    sid: str = jwt.decode(access_token, options={"verify_signature": False})["sid"]
    return sid


async def test_expired_secrets_of_every_kind_go_and_live_ones_stay(make_client: ClientFactory) -> None:
    async with make_client(**NO_SCHEDULE) as client:
        await register(client)
        await ask_for_everything(client, "ada@example.com")
        await ask_for_everything(client, "ghost@example.com")  # decoys
        assert await count(client, "one_time_secrets") == 6
        await sql(client, update(OneTimeSecret).values(expires_at=ago(LONG_AGO)))
        # Expired, but not long enough ago (AUTHGATE_RETENTION_EXPIRED_SECONDS: a day).
        recent = (await column(client, "SELECT id FROM one_time_secrets WHERE purpose = 'magic_link'")).pop()
        await sql(client, update(OneTimeSecret).where(OneTimeSecret.id == recent).values(expires_at=ago(RECENTLY)))
        response = await client.post("/password/forgot", json={"email": "ada@example.com"})
        assert response.status_code == 202
        live = await column(client, "SELECT id FROM one_time_secrets WHERE expires_at > :now", now=utcnow())
        assert len(live) == 1

        counts = await retention.purge(runtime(client))

        assert counts["one_time_secrets"] == 5
        assert await column(client, "SELECT id FROM one_time_secrets") == {recent, *live}


async def test_finished_outbox_rows_go_and_pending_ones_stay(make_client: ClientFactory) -> None:
    async with make_client(**NO_SCHEDULE) as client:
        await register(client)
        await ask_for_everything(client, "ada@example.com")  # logged (no mail server configured)
        await ask_for_everything(client, "ghost@example.com")  # suppressed
        await settled(client)
        assert await column(client, "SELECT status FROM outbox") == {"logged", "suppressed"}
        await stop_courier(client)
        await ask_for_everything(client, "ada@example.com")  # pending: no courier takes them now
        assert await column(client, "SELECT status FROM outbox WHERE created_at > :t", t=ago(RECENTLY)) >= {"pending"}
        await sql(client, update(OutboxMessage).values(created_at=ago(LONG_AGO), next_attempt_at=ago(LONG_AGO)))
        await sql(client, update(OutboxMessage).where(OutboxMessage.sent_at.is_not(None)).values(sent_at=ago(LONG_AGO)))
        # Made long ago, but logged only an hour ago: it counts from then.
        late = (await column(client, "SELECT id FROM outbox WHERE status = 'logged' AND kind = 'magic_link'")).pop()
        await sql(client, update(OutboxMessage).where(OutboxMessage.id == late).values(sent_at=ago(RECENTLY)))
        pending = await column(client, "SELECT id FROM outbox WHERE status = 'pending'")
        assert len(pending) == 3

        counts = await retention.purge(runtime(client))

        assert counts["outbox"] == 5
        assert await column(client, "SELECT id FROM outbox") == {late, *pending}


async def test_dispatched_events_go_and_undispatched_or_still_carried_ones_stay(make_client: ClientFactory) -> None:
    receiver = WebhookReceiver()
    receiver.start()
    try:
        settings = {**FAST_WEBHOOKS, "webhook_retry_base_seconds": 60, **NO_SCHEDULE}
        async with make_client(**settings) as client:
            admin = await admin_token(client)
            await subscribe(client, admin, receiver.url, ["user.login"])
            await register(client)
            await login(client)
            await receiver.wait_for("user.login")
            await settled(client)
            handed_over = await column(client, "SELECT id FROM events")
            # A delivery that failed once waits a minute for its next try: its event must stay.
            receiver.fail = 100
            await login(client)
            carried = await _wait_for_waiting_delivery(client)
            await stop_courier(client)
            await login(client)  # its event is never fanned out: no courier
            undispatched = await column(client, "SELECT id FROM events WHERE dispatched_at IS NULL")
            assert len(undispatched) == 1
            await sql(client, update(EventRecord).values(at=ago(LONG_AGO)))
            await sql(
                client,
                update(EventRecord).where(EventRecord.dispatched_at.is_not(None)).values(dispatched_at=ago(LONG_AGO)),
            )

            counts = await retention.purge(runtime(client))

            assert counts["events"] == len(handed_over)
            assert await column(client, "SELECT id FROM events") == {carried, *undispatched}
    finally:
        receiver.stop()


async def _wait_for_waiting_delivery(client: httpx.AsyncClient) -> str:
    """The event of the one webhook delivery that failed and waits for its next try."""
    deadline = asyncio.get_running_loop().time() + PATIENCE
    while asyncio.get_running_loop().time() < deadline:
        rows = await sql(
            client, "SELECT event_id FROM outbox WHERE channel = 'webhook' AND status = 'pending' AND attempts > 0"
        )
        if rows:
            return str(rows[0][0])
        await asyncio.sleep(0.02)
    raise AssertionError(f"no webhook delivery waiting for a retry after {PATIENCE:g} s")


async def test_ended_sessions_go_with_their_retired_tokens_and_live_ones_stay(make_client: ClientFactory) -> None:
    async with make_client(**NO_SCHEDULE) as client:
        await register(client)
        logged_out, expired, ended_lately, live = [await login(client) for _ in range(4)]
        ids = {name: session_id(s["token"]) for name, s in _named(locals()).items()}
        rotated = await refresh(client, expired["refreshToken"])  # retires its first refresh token
        assert rotated.status_code == 200
        expired_now = rotated.json()
        assert (await refresh(client, live["refreshToken"])).status_code == 200
        for ended in (logged_out, ended_lately):
            response = await client.post("/logout", json={"refreshToken": ended["refreshToken"]})
            assert response.status_code == 200
        await sql(client, update(Session).where(Session.id == ids["logged_out"]).values(revoked_at=ago(LONG_AGO)))
        await sql(client, update(Session).where(Session.id == ids["expired"]).values(expires_at=ago(LONG_AGO)))
        assert await count(client, "retired_refresh_tokens") == 2
        # What a client sees before the purge ...
        dead_tokens = [logged_out["refreshToken"], expired_now["refreshToken"], expired["refreshToken"]]
        before = [await refresh(client, token) for token in dead_tokens]

        counts = await retention.purge(runtime(client))

        assert counts["sessions"] == 2 and counts["retired_refresh_tokens"] == 1
        remaining = await column(client, "SELECT id FROM sessions")
        assert ids["logged_out"] not in remaining and ids["expired"] not in remaining
        assert {ids["ended_lately"], ids["live"]} <= remaining
        assert await count(client, "retired_refresh_tokens") == 1  # the live session's
        # ... is what it sees after: the same 401.
        after = [await refresh(client, token) for token in dead_tokens]
        for old, new in zip(before, after, strict=True):
            assert old.status_code == new.status_code == 401
            assert old.json()["code"] == new.json()["code"] == "invalid_token"
            assert old.headers["content-type"] == new.headers["content-type"] == "application/problem+json"
        assert (await refresh(client, ended_lately["refreshToken"])).status_code == 401
        assert (await client.get("/profile", headers=bearer(live["token"]))).status_code == 200


def _named(scope: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: scope[name] for name in ("logged_out", "expired", "ended_lately", "live")}


async def test_signing_keys_go_when_their_grace_ends(make_client: ClientFactory) -> None:
    async with make_client(jwt_algorithm="EdDSA", **NO_SCHEDULE) as client:
        rt = runtime(client)
        await register(client)
        first = await column(client, "SELECT kid FROM signing_keys")
        await keys.rotate(rt, reason="test", grace_seconds=3600)
        in_grace_token = (await login(client))["token"]
        await keys.rotate(rt, reason="test", grace_seconds=3600)
        await sql(client, update(SigningKey).where(SigningKey.kid.in_(first)).values(expires_at=ago(RECENTLY)))
        kept = await column(client, "SELECT kid FROM signing_keys") - first
        assert len(kept) == 2  # one retired but in its grace, one signing

        counts = await retention.purge(rt)

        assert counts["signing_keys"] == 1
        assert await column(client, "SELECT kid FROM signing_keys") == kept
        assert (await client.get("/profile", headers=bearer(in_grace_token))).status_code == 200
        await rt.keys.reload()
        published = (await client.get("/.well-known/jwks.json")).json()["keys"]
        assert {k["kid"] for k in published} == kept


async def test_a_batch_never_exceeds_the_batch_size(make_client: ClientFactory) -> None:
    async with make_client(retention_batch_size=3, **NO_SCHEDULE) as client:
        for n in range(10):
            response = await client.post("/password/forgot", json={"email": f"nobody{n}@example.com"})
            assert response.status_code == 202
        await settled(client)
        await sql(client, update(OneTimeSecret).values(expires_at=ago(LONG_AGO)))
        await sql(client, update(OutboxMessage).values(created_at=ago(LONG_AGO)))
        deleted: dict[str, list[int]] = {"one_time_secrets": [], "outbox": []}

        def watch(_conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
            table = statement.split()[2] if statement.startswith("DELETE FROM") else ""
            if table in deleted:
                deleted[table].append(cursor.rowcount)

        engine = runtime(client).engine.sync_engine
        event.listen(engine, "after_cursor_execute", watch)
        try:
            counts = await retention.purge(runtime(client))
        finally:
            event.remove(engine, "after_cursor_execute", watch)

        assert deleted == {"one_time_secrets": [3, 3, 3, 1], "outbox": [3, 3, 3, 1]}
        assert counts["one_time_secrets"] == counts["outbox"] == 10


async def test_unauthenticated_traffic_leaves_nothing_behind(make_client: ClientFactory) -> None:
    async with make_client(**NO_SCHEDULE) as client:
        responses = await asyncio.gather(
            *(client.post("/password/forgot", json={"email": f"stranger{n}@example.com"}) for n in range(40))
        )
        assert {r.status_code for r in responses} == {202}
        await settled(client)
        assert await count(client, "one_time_secrets") == await count(client, "outbox") == 40
        # Once the decoys have expired and their rows are old enough:
        await sql(client, update(OneTimeSecret).values(expires_at=ago(LONG_AGO)))
        await sql(client, update(OutboxMessage).values(created_at=ago(LONG_AGO)))

        await retention.purge(runtime(client))

        assert await count(client, "one_time_secrets") == await count(client, "outbox") == 0


async def test_nodes_purging_at_once_delete_each_row_once(make_client: ClientFactory) -> None:
    async with make_client(retention_batch_size=7, **NO_SCHEDULE) as one, make_client(**NO_SCHEDULE) as other:
        for n in range(30):
            await one.post("/password/forgot", json={"email": f"nobody{n}@example.com"})
        await sql(one, update(OneTimeSecret).values(expires_at=ago(LONG_AGO)))

        counts = await asyncio.gather(retention.purge(runtime(one)), retention.purge(runtime(other)))

        assert sum(c["one_time_secrets"] for c in counts) == 30
        assert await count(one, "one_time_secrets") == 0
