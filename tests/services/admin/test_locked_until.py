"""`lockedUntil` in the administrators' view of a user: when the account's lockout ends, while
one lasts, read from the lockout's state (in this process, or in Redis); never in what a user
sees of their own account."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.support.app import ClientFactory
from tests.support.http import STRONG_PASSWORD, admin_token, bearer, register

ADA = "ada@example.com"
WRONG = {"email": ADA, "password": "Wrong-Pass-123"}


def when(value: str) -> datetime:
    assert value.endswith("Z"), value  # UTC, written as every time in the API is
    return datetime.fromisoformat(value)


async def lock(client: httpx.AsyncClient, failures: int = 5) -> datetime:
    """Lock the account with failed sign-ins (the default threshold); about when it ends."""
    for _ in range(failures):
        assert (await client.post("/login", json=WRONG)).status_code == 401
    refused = await client.post("/login", json={"email": ADA, "password": STRONG_PASSWORD})
    assert refused.status_code == 429 and refused.json()["code"] == "account_locked", refused.text
    return datetime.now(UTC) + timedelta(seconds=900)  # AUTHGATE_LOCKOUT_SECONDS' default


async def views(client: httpx.AsyncClient, admin: dict[str, str], user_id: str) -> list[dict[str, Any]]:
    """The account as GET /user/{id} and as GET /users show it to an administrator."""
    one = await client.get(f"/user/{user_id}", headers=admin)
    assert one.status_code == 200, one.text
    listed = await client.get("/users", headers=admin)
    assert listed.status_code == 200, listed.text
    return [one.json(), next(u for u in listed.json()["items"] if u["id"] == user_id)]


async def check_locked_until(client: httpx.AsyncClient) -> None:
    registered = (await register(client, ADA)).json()
    ada_id, ada = registered["user"]["id"], bearer(registered["token"])
    admin = bearer(await admin_token(client))
    client.cookies.clear()
    for view in await views(client, admin, ada_id):
        assert "lockedUntil" in view and view["lockedUntil"] is None
    admin_self = await client.get(f"/user/{(await client.get('/user', headers=admin)).json()['id']}", headers=admin)
    assert admin_self.json()["lockedUntil"] is None  # an administrator's view, of themselves too

    ends = await lock(client)
    for view in await views(client, admin, ada_id):
        until = when(view["lockedUntil"])
        assert ends - timedelta(seconds=30) < until <= ends + timedelta(seconds=1), (until, ends)

    # The user's own view never shows it (nor the other admin fields).
    for own in (
        await client.get("/user", headers=ada),
        await client.get(f"/user/{ada_id}", headers=ada),
        await client.get("/profile", headers=ada),
    ):
        assert own.status_code == 200, own.text
        assert not {"lockedUntil", "disabled", "passwordScheme"} & set(own.json()), own.text

    unlocked = await client.post(f"/user/{ada_id}/unlock", headers=admin)
    assert unlocked.status_code == 200 and unlocked.json()["wasLocked"] is True
    for view in await views(client, admin, ada_id):
        assert view["lockedUntil"] is None
    changed = await client.put("/user", headers=ada, json={"name": "Ada"})
    assert changed.status_code == 200 and "lockedUntil" not in changed.json(), changed.text


async def test_locked_until_in_this_process(client: httpx.AsyncClient) -> None:
    await check_locked_until(client)


async def test_locked_until_from_redis(make_client: ClientFactory, redis_url: str, redis_prefix: str) -> None:
    async with make_client(redis_url=redis_url, redis_key_prefix=redis_prefix) as client:
        await check_locked_until(client)


async def test_a_page_of_users_reads_the_lockouts_once(client: httpx.AsyncClient) -> None:
    """One call to the lockout's state for the whole page, whatever its size."""
    for n in range(6):
        await register(client, f"user{n}@example.com")
    await register(client, ADA)
    admin = bearer(await admin_token(client))
    client.cookies.clear()
    await lock(client)
    state = client.app.state.runtime.lockout.state  # type: ignore[attr-defined]
    calls: list[int] = []
    original = state.locked_for_many

    async def counted(keys: Any) -> Any:
        calls.append(len(keys))
        return await original(keys)

    state.locked_for_many = counted
    page = (await client.get("/users", headers=admin)).json()["items"]
    assert calls == [8]
    assert [u["email"] for u in page if u["lockedUntil"] is not None] == [ADA]
