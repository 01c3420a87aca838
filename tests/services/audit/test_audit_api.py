"""GET /audit/logs: who may read it, filters, and pages that hold still while entries arrive."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.support.audit import auditor, logs
from tests.support.http import STRONG_PASSWORD, bearer, register


async def test_reading_the_trail_needs_audit_read(client: httpx.AsyncClient) -> None:
    token = (await register(client)).json()["token"]
    assert (await client.get("/audit/logs")).status_code == 401
    refused = await client.get("/audit/logs", headers=bearer(token))
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    page = await logs(client, await auditor(client))
    assert page["items"] and page["nextCursor"] is None


async def test_entries_come_newest_first_with_every_field(client: httpx.AsyncClient) -> None:
    body = {"email": "ada@example.com", "password": STRONG_PASSWORD}
    user = (await client.post("/register", json=body, headers={"User-Agent": "field-test"})).json()["user"]
    headers = await auditor(client)
    items = (await logs(client, headers))["items"]
    assert [i["seq"] for i in items] == sorted((i["seq"] for i in items), reverse=True)
    created = next(i for i in items if i["type"] == "user.created" and i["userId"] == user["id"])
    assert set(created) == {
        "id", "seq", "type", "createdAt", "userId", "actorId", "ipAddress", "userAgent", "data", "hash"
    }  # fmt: skip
    assert created["createdAt"].endswith("Z") and created["ipAddress"] == "203.0.113.7"
    assert created["userAgent"] == "field-test" and len(created["hash"]) == 64


async def test_filters_by_user_type_and_time(client: httpx.AsyncClient) -> None:
    ada = (await register(client, "ada@example.com")).json()["user"]["id"]
    await register(client, "bob@example.com")
    await client.post("/login", json={"email": "ada@example.com", "password": "Wrong-Horse-41"})
    headers = await auditor(client)

    mine = (await logs(client, headers, userId=ada))["items"]
    assert mine and {i["userId"] for i in mine} == {ada}
    assert {i["type"] for i in mine} == {"user.created", "user.login", "user.login_failed"}
    failed = (await logs(client, headers, type="user.login_failed"))["items"]
    assert [i["userId"] for i in failed] == [ada]
    both = (await logs(client, headers, type="user.login_failed, user.created", userId=ada))["items"]
    assert sorted(i["type"] for i in both) == ["user.created", "user.login_failed"]

    now = datetime.now(UTC)
    assert (await logs(client, headers, since=(now + timedelta(minutes=1)).isoformat()))["items"] == []
    assert (await logs(client, headers, until=(now - timedelta(minutes=5)).isoformat()))["items"] == []
    window = await logs(client, headers, since=(now - timedelta(minutes=5)).isoformat(), until=now.isoformat())
    assert len(window["items"]) >= len(mine)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "201"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"since": "yesterday"}, "since"),
        ({"since": "2026-11-23T12:00:00"}, "since"),  # no time zone
        ({"until": "2026-11-23T12:00:00"}, "until"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "WyJ4Il0"}, "cursor"),  # ["x"]: a list, but not of a place
        ({"cursor": "é"}, "cursor"),
        ({"userId": "ada\u0000"}, "userId"),
        ({"type": "user.login\u0007"}, "type"),
    ],
)
async def test_bad_parameters_are_400_naming_them(
    client: httpx.AsyncClient, params: dict[str, str], field: str
) -> None:
    response = await client.get("/audit/logs", headers=await auditor(client), params=params)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in {e["field"] for e in response.json()["errors"]}


async def test_pages_hold_still_while_entries_arrive(client: httpx.AsyncClient) -> None:
    """Paging with a small limit while parallel requests append entries: every entry that was
    there when paging began is seen exactly once."""
    headers = await auditor(client)
    for n in range(12):
        await register(client, f"user{n}@example.com")
    before = {i["id"] for i in (await logs(client, headers, limit=200))["items"]}

    async def arrivals() -> None:
        for round_ in range(6):
            await asyncio.gather(
                *(
                    client.post("/login", json={"email": f"user{n}@example.com", "password": STRONG_PASSWORD})
                    for n in range(round_ * 2, round_ * 2 + 2)
                )
            )

    async def page_through() -> list[str]:
        seen: list[str] = []
        cursor: str | None = None
        while True:
            params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
            page = await logs(client, headers, **params)
            seen += [i["id"] for i in page["items"]]
            cursor = page["nextCursor"]
            if cursor is None:
                return seen
            await asyncio.sleep(0)

    seen, _ = await asyncio.gather(page_through(), arrivals())
    assert len(seen) == len(set(seen)), "an entry was shown twice"
    assert before <= set(seen), "an entry was skipped"
