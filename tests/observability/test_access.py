"""Who may read `/metrics`: with AUTHGATE_METRICS_TOKEN, its bearer only (401 otherwise);
without, a direct loopback connection only, and everyone else a 404 like any unknown path's.
The peer is the real TCP peer, never an address a header names. Root only, never documented."""

from __future__ import annotations

import httpx
import pytest

from tests.support.app import ClientFactory
from tests.support.metrics import scrape

TOKEN = "metrics-token-of-at-least-32-characters"
PUBLIC_PEER = ("203.0.113.7", 5000)


async def unknown_path(client: httpx.AsyncClient) -> httpx.Response:
    response = await client.get("/no-such-route")
    assert response.status_code == 404
    return response


def assert_hidden(response: httpx.Response, unknown: httpx.Response) -> None:
    assert response.status_code == 404
    assert response.headers["content-type"] == unknown.headers["content-type"] == "application/problem+json"
    assert response.json() == unknown.json()
    assert "authgate_" not in response.text


@pytest.mark.parametrize("peer", [("127.0.0.1", 9100), ("127.8.9.10", 9100), ("::1", 9100)])
async def test_a_direct_loopback_connection_reads_the_metrics(client: httpx.AsyncClient, peer: tuple[str, int]) -> None:
    response = await scrape(client, peer)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "authgate_http_requests_total" in response.text


async def test_anyone_else_finds_nothing_there(client: httpx.AsyncClient) -> None:
    assert_hidden(await client.get("/metrics"), await unknown_path(client))  # the client connects from 203.0.113.7


@pytest.mark.parametrize(
    "header",
    [
        {"X-Forwarded-For": "127.0.0.1"},
        {"Forwarded": "for=127.0.0.1"},
        {"X-Real-IP": "127.0.0.1"},
        {"X-Forwarded-For": "198.51.100.4, 127.0.0.1"},
    ],
)
async def test_a_request_a_proxy_forwarded_is_refused_even_from_loopback(
    client: httpx.AsyncClient, header: dict[str, str]
) -> None:
    """A reverse proxy on the same host connects from loopback for every client."""
    assert_hidden(await scrape(client, **header), await unknown_path(client))


async def test_a_trusted_proxy_cannot_claim_loopback_for_its_client(make_client: ClientFactory) -> None:
    async with make_client(trusted_proxies=["203.0.113.0/24"]) as client:
        response = await client.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"})
        assert_hidden(response, await unknown_path(client))


async def test_with_a_token_its_bearer_reads_the_metrics_from_anywhere(make_client: ClientFactory) -> None:
    async with make_client(metrics_token=TOKEN) as client:
        response = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert response.status_code == 200
        assert "authgate_http_requests_total" in response.text
        assert (await scrape(client, PUBLIC_PEER, Authorization=f"bearer {TOKEN}")).status_code == 200


@pytest.mark.parametrize(
    "authorization",
    [None, "", f"Bearer {TOKEN[:-1]}", f"Bearer {TOKEN}x", f"Basic {TOKEN}", TOKEN, "Bearer "],
)
async def test_with_a_token_anything_else_is_401(make_client: ClientFactory, authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    async with make_client(metrics_token=TOKEN) as client:
        for response in (await client.get("/metrics", headers=headers), await scrape(client, **headers)):
            assert response.status_code == 401  # loopback included: the token is then always asked for
            assert response.headers["content-type"] == "application/problem+json"
            assert response.headers["www-authenticate"].startswith("Bearer")
            assert response.json()["code"] == "invalid_token"
            assert TOKEN not in response.text and "authgate_" not in response.text


@pytest.mark.parametrize("prefix", ["/auth", "/api/auth", "/api/v1/auth"])
async def test_metrics_are_at_the_root_only(make_client: ClientFactory, prefix: str) -> None:
    async with make_client() as client:
        assert_hidden(await scrape(client, path=f"{prefix}/metrics"), await unknown_path(client))
    async with make_client(metrics_token=TOKEN) as client:
        response = await client.get(f"{prefix}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert_hidden(response, await unknown_path(client))


async def test_metrics_are_not_in_the_openapi_document(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert not any(path.endswith("/metrics") for path in paths)
