"""Requests are counted by the route template they matched, the same under every route prefix;
a request no route matched is `unmatched`, so random paths and methods add no series."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.support.app import ClientFactory
from tests.support.http import STRONG_PASSWORD, bearer, register
from tests.support.metrics import metrics_text, requests_by_route

DEFAULT_PREFIXES = ("", "/auth", "/api/auth", "/api/v1/auth")


async def test_every_prefix_counts_under_the_route_template(client: httpx.AsyncClient) -> None:
    token = (await register(client, "labels@example.com", prefix="")).json()["token"]
    for prefix in DEFAULT_PREFIXES:
        login = await client.post(f"{prefix}/login", json={"email": "labels@example.com", "password": STRONG_PASSWORD})
        assert login.status_code == 200, login.text
        missing = await client.delete(f"{prefix}/sessions/{uuid.uuid4()}", headers=bearer(token))
        assert missing.status_code == 404, missing.text  # the route matched; the session is unknown
    counted = requests_by_route(await metrics_text(client))
    assert counted[("/login", "POST", "200")] == len(DEFAULT_PREFIXES)
    assert counted[("/sessions/{session_id}", "DELETE", "404")] == len(DEFAULT_PREFIXES)
    assert ("unmatched", "POST", "200") not in counted


async def test_every_label_is_a_route_template_or_unmatched(client: httpx.AsyncClient) -> None:
    token = (await register(client, "any@example.com", prefix="/api/v1/auth")).json()["token"]
    await client.get("/api/auth/me", headers=bearer(token))
    await client.get(f"/auth/sessions/{uuid.uuid4()}", headers=bearer(token))  # no GET there: 405
    await client.get(f"/auth/{uuid.uuid4()}")
    templates = set((await client.get("/openapi.json")).json()["paths"])
    routes = {route for route, _, _ in requests_by_route(await metrics_text(client))}
    assert routes <= templates | {"unmatched", "/openapi.json"}  # the document does not list itself
    assert {"/register", "/sessions/{session_id}", "unmatched"} <= routes


async def test_a_flood_of_unknown_paths_adds_one_series(client: httpx.AsyncClient) -> None:
    await metrics_text(client)  # the scrape's own series exists before `before` is read
    before = requests_by_route(await metrics_text(client))
    for n in range(40):
        prefix = DEFAULT_PREFIXES[n % len(DEFAULT_PREFIXES)]
        assert (await client.get(f"{prefix}/{uuid.uuid4()}/{n}")).status_code == 404
    after = requests_by_route(await metrics_text(client))
    added = set(after) - set(before)
    assert added == {("unmatched", "GET", "404")}
    assert after[("unmatched", "GET", "404")] == 40


async def test_unknown_methods_count_as_other(client: httpx.AsyncClient) -> None:
    await metrics_text(client)
    before = requests_by_route(await metrics_text(client))
    for n in range(10):
        await client.request(f"X-CUSTOM-{n}", "/healthz")
    after = requests_by_route(await metrics_text(client))
    assert {method for _, method, _ in set(after) - set(before)} == {"other"}


@pytest.mark.parametrize(
    ("path", "kwargs"),
    [
        ("/login", {"content": b"email=x", "headers": {"Content-Type": "text/plain"}}),  # BodyGuard: 415
        ("/auth/login%00", {"json": {}}),  # PathGuard: 400
    ],
)
async def test_a_request_refused_before_routing_is_unmatched(
    client: httpx.AsyncClient, path: str, kwargs: dict[str, object]
) -> None:
    refused = await client.post(path, **kwargs)  # type: ignore[arg-type]
    assert refused.status_code in {400, 415}
    counted = requests_by_route(await metrics_text(client))
    assert counted == {("unmatched", "POST", str(refused.status_code)): 1}


async def test_labels_hold_with_cors_in_front(make_client: ClientFactory) -> None:
    async with make_client(cors_origins=["https://app.example.com"]) as client:
        response = await client.get("/api/auth/healthz-missing", headers={"Origin": "https://app.example.com"})
        assert response.status_code == 404
        await client.post("/api/v1/auth/login", json={"email": "x@example.com", "password": "Wrong-Pass-1"})
        counted = requests_by_route(await metrics_text(client))
    assert counted[("/login", "POST", "401")] == 1
    assert counted[("unmatched", "GET", "404")] == 1
