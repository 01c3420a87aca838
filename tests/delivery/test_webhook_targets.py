"""Webhook targets inside the network are refused (server-side request forgery): when the URL
is saved, and again before every delivery, after the name is resolved; redirects are never
followed. AUTHGATE_WEBHOOK_ALLOW_PRIVATE=true lifts the rule for development."""

from __future__ import annotations

from typing import Any

import pytest

from authgate.security.network import is_public_address
from tests.support.app import ClientFactory
from tests.support.http import bearer, register
from tests.support.webhooks import WebhookReceiver, manager_token, subscribe, wait_deliveries

INSIDE = [
    "http://127.0.0.1:8080/hook",
    "http://localhost/hook",
    "http://[::1]/hook",
    "http://10.1.2.3/hook",
    "http://172.16.0.9/hook",
    "http://192.168.1.20/hook",
    "http://169.254.169.254/latest/meta-data/",  # the cloud metadata service
    "http://[fe80::1]/hook",
    "http://100.64.0.1/hook",
    "http://0.0.0.0/hook",
    "http://[::ffff:127.0.0.1]/hook",  # IPv4-mapped IPv6
    "http://[64:ff9b::a00:1]/hook",  # NAT64 of 10.0.0.1
    "http://2130706433/hook",  # 127.0.0.1 as one decimal number
    "http://0x7f.1/hook",  # 127.0.0.1 in hex shorthand
    "https://127.1/hook",
]


async def test_private_loopback_and_link_local_targets_are_refused(make_client: ClientFactory) -> None:
    async with make_client() as client:
        token = await manager_token(client)
        for url in INSIDE:
            response = await client.post("/webhooks", headers=bearer(token), json={"url": url, "events": ["*"]})
            assert response.status_code == 400, (url, response.text)
            [error] = response.json()["errors"]
            assert error["field"] == "url", url
            assert "AUTHGATE_WEBHOOK_ALLOW_PRIVATE" in error["message"] or "resolve" in error["message"], error
        assert (await client.get("/webhooks", headers=bearer(token))).json()["items"] == []


async def test_a_name_that_does_not_resolve_is_refused(make_client: ClientFactory) -> None:
    async with make_client() as client:
        token = await manager_token(client)
        response = await client.post(
            "/webhooks", headers=bearer(token), json={"url": "https://hooks.does-not-exist.invalid/x", "events": ["*"]}
        )
        assert response.status_code == 400
        assert response.json()["errors"][0]["message"] == "The host name does not resolve."


async def test_a_target_is_checked_again_before_each_delivery(
    make_client: ClientFactory, receiver: WebhookReceiver
) -> None:
    """A URL saved while it pointed outside (here: while private targets were allowed) that
    now leads inside, as DNS rebinding would make it, is refused at delivery time."""
    fast: dict[str, Any] = {"webhook_retry_base_seconds": 0.05, "webhook_max_attempts": 2}
    async with make_client(webhook_allow_private=True, **fast) as client:
        token = await manager_token(client)
        hook = await subscribe(client, token, receiver.url, ["user.created"])
    async with make_client(webhook_allow_private=False, **fast) as client:
        login = await client.post("/login", json={"email": "hooks-admin@example.com", "password": "Sturdy-Horse-42"})
        admin = login.json()["token"]
        await register(client, "bea@example.com")
        [delivery] = await wait_deliveries(client, admin, hook["id"], lambda d: bool(d) and d[0]["status"] == "failed")
        assert "AUTHGATE_WEBHOOK_ALLOW_PRIVATE" in delivery["lastError"]
        assert receiver.hits == 0


async def test_redirects_are_not_followed(make_client: ClientFactory, receiver: WebhookReceiver) -> None:
    receiver.status = 307
    async with make_client(webhook_allow_private=True, webhook_retry_base_seconds=0.05, webhook_max_attempts=1) as c:
        token = await manager_token(c)
        hook = await subscribe(c, token, receiver.url, ["user.created"])
        await register(c, "bea@example.com")
        [delivery] = await wait_deliveries(c, token, hook["id"], lambda d: bool(d) and d[0]["status"] == "failed")
        assert delivery["lastError"] == "answered HTTP 307"
        assert receiver.hits == 1


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2001:4860:4860::8888", True),
        ("127.0.0.1", False),
        ("::1", False),
        ("10.0.0.1", False),
        ("172.31.255.255", False),
        ("192.168.0.1", False),
        ("169.254.169.254", False),
        ("fe80::1%eth0", False),
        ("fd00::1", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("::", False),
        ("224.0.0.1", False),
        ("ff02::1", False),
        ("255.255.255.255", False),
        ("::ffff:10.0.0.1", False),
        ("::ffff:8.8.8.8", True),
        ("64:ff9b::7f00:1", False),
        ("2002:c0a8:0101::1", False),  # 6to4 of 192.168.1.1
        ("not an address", False),
    ],
)
def test_which_addresses_are_public(address: str, public: bool) -> None:
    assert is_public_address(address) is public


async def test_private_targets_are_allowed_when_configured(make_client: ClientFactory) -> None:
    async with make_client(webhook_allow_private=True) as client:
        token = await manager_token(client)
        response = await client.post(
            "/webhooks", headers=bearer(token), json={"url": "http://127.0.0.1:9/hook", "events": ["*"]}
        )
        assert response.status_code == 201, response.text
