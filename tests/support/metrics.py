"""Reading `/metrics` as a Prometheus on the same host would: a direct loopback connection to
the app under test (the test clients connect from a public address, which is refused)."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

LOOPBACK = ("127.0.0.1", 9100)


async def scrape(
    client: httpx.AsyncClient, peer: tuple[str, int] = LOOPBACK, path: str = "/metrics", **headers: str
) -> httpx.Response:
    """`GET /metrics` (or `path`) on `client`'s app from `peer`."""
    transport = httpx.ASGITransport(app=client.app, client=peer)  # type: ignore[attr-defined]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as direct:
        return await direct.get(path, headers=headers)


async def metrics_text(client: httpx.AsyncClient) -> str:
    response = await scrape(client)
    assert response.status_code == 200, response.text
    return response.text


def samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """Every sample called `name`, by its sorted labels."""
    return {
        tuple(sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    }


async def password_hashes(client: httpx.AsyncClient, op: str) -> float:
    """How many times `client`'s app has hashed (`op` "hash") or verified ("verify") a password so
    far, whatever the scheme: the count of `authgate_password_hash_seconds`. Work counted, not
    timed, so that tests of what a request does not hash hold on a loaded machine."""
    found = samples(await metrics_text(client), "authgate_password_hash_seconds_count")
    return sum(value for labels, value in found.items() if dict(labels)["op"] == op)


def requests_by_route(text: str) -> dict[tuple[str, str, str], float]:
    """`authgate_http_requests_total` by (route, method, status)."""
    found = samples(text, "authgate_http_requests_total")
    return {(dict(k)["route"], dict(k)["method"], dict(k)["status"]): v for k, v in found.items()}
