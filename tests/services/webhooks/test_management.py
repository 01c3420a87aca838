"""Managing webhooks over HTTP: who may, what is checked, and the secret shown only once."""

from __future__ import annotations

import httpx
import orjson

from tests.support.app import runtime, sql
from tests.support.http import assert_needs_capability, bearer, register
from tests.support.webhooks import WebhookReceiver, manager_token, subscribe


async def test_without_the_capability_every_webhook_endpoint_is_refused(hclient: httpx.AsyncClient) -> None:
    token = (await register(hclient)).json()["token"]
    attempts = [
        ("GET", "/webhooks", None),
        ("POST", "/webhooks", {"url": "http://127.0.0.1:9/x", "events": ["user.created"]}),
        ("GET", "/webhooks/some-id", None),
        ("PUT", "/webhooks/some-id", {"active": False}),
        ("DELETE", "/webhooks/some-id", None),
        ("POST", "/webhooks/some-id/rotate-secret", None),
        ("GET", "/webhooks/some-id/deliveries", None),
        ("POST", "/webhooks/some-id/deliveries/other/redeliver", None),
    ]
    await assert_needs_capability(hclient, token, attempts)


async def test_a_role_with_webhooks_manage_may_manage_them(
    hclient: httpx.AsyncClient, receiver: WebhookReceiver
) -> None:
    admin = await manager_token(hclient)
    role = await hclient.post(
        "/roles", headers=bearer(admin), json={"name": "integrations", "caps": ["webhooks:manage"]}
    )
    assert role.status_code == 201, role.text
    token = await manager_token(hclient, "ops@example.com", role="integrations")
    created = await subscribe(hclient, token, receiver.url, ["user.created"])
    assert (await hclient.get("/webhooks", headers=bearer(token))).json()["items"][0]["id"] == created["id"]
    assert (await hclient.get("/users", headers=bearer(token))).status_code == 403  # nothing more


async def test_the_secret_is_shown_once_and_kept_sealed(hclient: httpx.AsyncClient, receiver: WebhookReceiver) -> None:
    token = await manager_token(hclient)
    created = await hclient.post(
        "/webhooks",
        headers=bearer(token),
        json={"url": receiver.url, "events": ["user.created", "user.login"], "description": "CRM sync"},
    )
    assert created.status_code == 201, created.text
    assert created.headers["cache-control"] == "no-store"
    hook = created.json()
    assert hook["secret"].startswith("whsec_") and len(hook["secret"]) > 40
    assert hook["events"] == ["user.created", "user.login"] and hook["active"] is True
    assert hook["description"] == "CRM sync" and hook["previousSecretExpiresAt"] is None

    listed = (await hclient.get("/webhooks", headers=bearer(token))).json()["items"]
    one = (await hclient.get(f"/webhooks/{hook['id']}", headers=bearer(token))).json()
    assert "secret" not in listed[0] and "secret" not in one
    assert one == {k: v for k, v in hook.items() if k != "secret"}

    stored = await sql(hclient, "SELECT secret FROM webhooks WHERE id = :id", id=hook["id"])
    assert hook["secret"] not in stored[0][0] and hook["secret"][6:] not in stored[0][0]
    assert runtime(hclient).box.open(stored[0][0], context=hook["id"]) == hook["secret"]


async def test_a_change_applies_only_the_fields_sent(hclient: httpx.AsyncClient, receiver: WebhookReceiver) -> None:
    token = await manager_token(hclient)
    hook = await subscribe(hclient, token, receiver.url, ["user.created"])
    changed = await hclient.put(
        f"/webhooks/{hook['id']}", headers=bearer(token), json={"events": ["*"], "active": False}
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["events"] == ["*"] and body["active"] is False and body["url"] == receiver.url
    assert "secret" not in body

    audit = await hclient.get("/audit/logs?type=webhook.created,webhook.updated", headers=bearer(token))
    entries = audit.json()["items"]
    assert [e["type"] for e in entries] == ["webhook.updated", "webhook.created"]
    assert entries[0]["data"]["fields"] == ["events", "active"]


async def test_bad_bodies_are_problems_naming_the_field(hclient: httpx.AsyncClient, receiver: WebhookReceiver) -> None:
    token = await manager_token(hclient)
    cases = [
        ({"url": "ftp://example.com/x", "events": ["user.created"]}, "url"),
        ({"url": "not a url", "events": ["user.created"]}, "url"),
        ({"url": "http://user:pw@127.0.0.1/x", "events": ["user.created"]}, "url"),
        ({"url": receiver.url, "events": ["user.exploded"]}, "events"),
        ({"url": receiver.url, "events": []}, "events"),
        ({"url": receiver.url}, "events"),
        ({"url": receiver.url, "events": "user.created"}, "events"),
        ({"url": receiver.url, "events": ["user.created"], "active": "yes"}, "active"),
        ({"url": receiver.url, "events": ["user.created"], "description": "x\u202ey"}, "description"),
    ]
    for body, field in cases:
        response = await hclient.post("/webhooks", headers=bearer(token), json=body)
        assert response.status_code == 400, (body, response.text)
        problem = response.json()
        assert problem["code"] == "validation_failed", problem
        assert field in {e["field"] for e in problem["errors"]}, (body, problem)
    assert (await hclient.get("/webhooks", headers=bearer(token))).json()["items"] == []


async def test_unknown_webhooks_and_deliveries_are_404(hclient: httpx.AsyncClient, receiver: WebhookReceiver) -> None:
    token = await manager_token(hclient)
    hook = await subscribe(hclient, token, receiver.url, ["user.created"])
    for method, path in [
        ("GET", "/webhooks/nope"),
        ("PUT", "/webhooks/nope"),
        ("DELETE", "/webhooks/nope"),
        ("POST", "/webhooks/nope/rotate-secret"),
        ("GET", "/webhooks/nope/deliveries"),
        ("POST", f"/webhooks/{hook['id']}/deliveries/nope/redeliver"),
    ]:
        response = await hclient.request(method, path, headers=bearer(token), json={} if method == "PUT" else None)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["code"] == "not_found"


async def test_deleting_a_webhook_removes_it_and_its_deliveries(
    hclient: httpx.AsyncClient, receiver: WebhookReceiver
) -> None:
    token = await manager_token(hclient)
    hook = await subscribe(hclient, token, receiver.url, ["user.created"])
    await register(hclient, "bea@example.com")
    await receiver.wait_for("user.created")
    deleted = await hclient.delete(f"/webhooks/{hook['id']}", headers=bearer(token))
    assert deleted.status_code == 204 and deleted.content == b""
    assert (await hclient.get(f"/webhooks/{hook['id']}", headers=bearer(token))).status_code == 404
    assert await sql(hclient, "SELECT count(*) FROM outbox WHERE recipient = :id", id=hook["id"]) == [(0,)]
    entry = (await hclient.get("/audit/logs?type=webhook.deleted", headers=bearer(token))).json()["items"][0]
    assert entry["data"]["url"] == receiver.url


async def test_the_audit_trail_keeps_the_url_without_its_query(
    hclient: httpx.AsyncClient, receiver: WebhookReceiver
) -> None:
    token = await manager_token(hclient)
    await subscribe(hclient, token, receiver.url + "?token=s3cr3t-in-query", ["user.created"])
    entry = (await hclient.get("/audit/logs?type=webhook.created", headers=bearer(token))).json()["items"][0]
    assert entry["data"]["url"] == receiver.url
    assert "s3cr3t" not in orjson.dumps(entry).decode()
