"""Refresh: rotation on every use, the reuse grace window, reuse detection, the race."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update

from authgate.security.opaque import digest
from authgate.storage.models import Session, User, utcnow
from tests.support.app import ClientFactory, runtime, sql
from tests.support.http import bearer, cookie_header, login, register, set_cookies

PATHS = [("POST", "/refresh"), ("POST", "/token/refresh"), ("GET", "/token/refresh")]


async def _signed_in(client: httpx.AsyncClient) -> dict[str, str]:
    await register(client)
    return dict((await login(client)).json())


def _sid(client: httpx.AsyncClient, body: dict[str, str]) -> str:
    return str(runtime_claims(client, body["accessToken"])["sid"])


async def _hashes(client: httpx.AsyncClient, body: dict[str, str]) -> tuple[str, str | None]:
    """The session's stored (current, just-rotated) refresh-token digests."""
    rows = await sql(
        client, "SELECT refresh_hash, previous_refresh_hash FROM sessions WHERE id = :sid", sid=_sid(client, body)
    )
    return rows[0][0], rows[0][1]


async def _refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post("/auth/refresh", json={"refreshToken": token})


async def test_login_returns_an_opaque_256_bit_refresh_token_stored_only_as_a_digest(
    client: httpx.AsyncClient,
) -> None:
    body = await _signed_in(client)
    token = body["refreshToken"]
    assert len(token) >= 43 and token.count(".") == 0  # 32 random bytes in base64url, not a JWT
    assert await _hashes(client, body) == (digest(token), None)
    dump = str(await sql(client, "SELECT * FROM sessions"))
    assert token not in dump


@pytest.mark.parametrize(("method", "path"), PATHS)
async def test_refresh_by_cookie_on_every_path_renews_both_cookies(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    body = await _signed_in(client)
    response = await client.request(
        method,
        f"/api/v1/auth{path}",
        headers=cookie_header(accessToken=body["accessToken"], refreshToken=body["refreshToken"]),
    )
    assert response.status_code == 200, response.text
    out = response.json()
    assert out["message"] == "Access token refreshed successfully"
    assert out["token"] == out["accessToken"]
    assert out["expiresIn"] == 900
    assert out["refreshToken"] != body["refreshToken"]
    cookies = set_cookies(response)
    assert cookies["accessToken"]["value"] == out["accessToken"]
    assert cookies["refreshToken"]["value"] == out["refreshToken"]
    assert cookies["refreshToken"]["max-age"] == "2592000"
    profile = await client.get("/profile", headers=bearer(out["accessToken"]))
    assert profile.status_code == 200


async def test_refresh_by_body_rotates_and_the_new_token_works(client: httpx.AsyncClient) -> None:
    body = await _signed_in(client)
    first = await _refresh(client, body["refreshToken"])
    assert first.status_code == 200
    second = await _refresh(client, first.json()["refreshToken"])
    assert second.status_code == 200
    assert len({body["refreshToken"], first.json()["refreshToken"], second.json()["refreshToken"]}) == 3
    assert await _hashes(client, body) == (digest(second.json()["refreshToken"]), digest(first.json()["refreshToken"]))


async def test_missing_unknown_or_garbage_refresh_token_is_401(client: httpx.AsyncClient) -> None:
    await _signed_in(client)
    for response in (
        await client.post("/refresh"),
        await client.post("/refresh", json={}),
        await _refresh(client, "not-a-token"),
        await client.get("/token/refresh", headers=cookie_header(refreshToken="x" * 43)),
    ):
        assert response.status_code == 401, response.text
        assert response.json()["code"] == "invalid_token"


async def test_a_failed_cookie_refresh_deletes_the_cookies(client: httpx.AsyncClient) -> None:
    response = await client.post("/refresh", headers=cookie_header(refreshToken="stale"))
    assert response.status_code == 401
    cookies = set_cookies(response)
    assert cookies["accessToken"]["max-age"] == "0"
    assert cookies["refreshToken"]["max-age"] == "0"


async def test_within_the_grace_window_the_old_token_returns_the_same_pair(client: httpx.AsyncClient) -> None:
    body = await _signed_in(client)
    first = await _refresh(client, body["refreshToken"])
    again = await _refresh(client, body["refreshToken"])
    assert again.status_code == 200
    assert again.json()["refreshToken"] == first.json()["refreshToken"]
    assert again.json()["accessToken"] == first.json()["accessToken"]
    assert set_cookies(again)["refreshToken"]["value"] == first.json()["refreshToken"]
    # The successor is kept encrypted, never in plain text.
    dump = str(await sql(client, "SELECT * FROM sessions"))
    assert first.json()["refreshToken"] not in dump
    assert first.json()["accessToken"] not in dump
    # And the session goes on: the returned token rotates normally.
    assert (await _refresh(client, first.json()["refreshToken"])).status_code == 200


async def _age_rotation(client: httpx.AsyncClient, token: str, seconds: int) -> None:
    """Pretend the rotation of `token` happened `seconds` ago."""
    await sql(
        client,
        update(Session)
        .where(Session.previous_refresh_hash == digest(token))
        .values(rotated_at=utcnow() - timedelta(seconds=seconds)),
    )


async def test_reuse_after_the_grace_window_revokes_the_whole_session(client: httpx.AsyncClient) -> None:
    body = await _signed_in(client)
    other = (await login(client)).json()  # a second session of the same user, untouched
    first = (await _refresh(client, body["refreshToken"])).json()
    await _age_rotation(client, body["refreshToken"], 11)

    reused = await _refresh(client, body["refreshToken"])
    assert reused.status_code == 401
    assert reused.json()["code"] == "invalid_token"
    # Every token of that session is dead: the successor refresh token and both access tokens.
    assert (await _refresh(client, first["refreshToken"])).status_code == 401
    for access in (body["accessToken"], first["accessToken"]):
        assert (await client.get("/profile", headers=bearer(access))).status_code == 401
    # The sealed successor is wiped with the session.
    sealed = await sql(client, "SELECT successor_sealed FROM sessions WHERE id = :sid", sid=_sid(client, body))
    assert sealed == [(None,)]
    # Another session of the same user is not affected.
    assert (await client.get("/profile", headers=bearer(other["accessToken"]))).status_code == 200
    assert (await _refresh(client, other["refreshToken"])).status_code == 200


async def test_refresh_token_replay_of_an_older_token_revokes_the_session(client: httpx.AsyncClient) -> None:
    """R0 → R1 → R2, then R0 again: not the last rotation, but still recognised as reuse, so
    the session ends and a thief holding R2 is cut off."""
    body = await _signed_in(client)
    first = (await _refresh(client, body["refreshToken"])).json()
    second = (await _refresh(client, first["refreshToken"])).json()
    old = await _refresh(client, body["refreshToken"])  # inside its grace window, but no longer the last one
    assert old.status_code == 401
    assert old.json()["code"] == "invalid_token"
    assert (await _refresh(client, second["refreshToken"])).status_code == 401
    assert (await client.get("/profile", headers=bearer(second["accessToken"]))).status_code == 401


async def test_grace_zero_turns_replay_off(make_client: ClientFactory) -> None:
    async with make_client(refresh_reuse_grace_seconds=0) as client:
        body = await _signed_in(client)
        first = (await _refresh(client, body["refreshToken"])).json()
        assert (await _refresh(client, body["refreshToken"])).status_code == 401
        assert (await _refresh(client, first["refreshToken"])).status_code == 401


async def test_sealed_pairs_are_wiped_once_their_grace_window_is_over(client: httpx.AsyncClient) -> None:
    body = await _signed_in(client)
    await _refresh(client, body["refreshToken"])
    await _age_rotation(client, body["refreshToken"], 11)
    other = (await login(client)).json()
    await asyncio.sleep(1.05)  # the sweep runs at most once a second per process
    await _refresh(client, other["refreshToken"])  # a later rotation on any session sweeps stale ones
    rows = await sql(client, "SELECT id FROM sessions WHERE successor_sealed IS NOT NULL")
    assert [r[0] for r in rows] == [_sid(client, other)]
    # And a stale sealed pair is never opened: after the window the old token is reuse.
    assert (await _refresh(client, body["refreshToken"])).status_code == 401


async def test_ten_concurrent_refreshes_mint_one_token_and_all_get_it(client: httpx.AsyncClient) -> None:
    body = await _signed_in(client)
    responses = await asyncio.gather(*(_refresh(client, body["refreshToken"]) for _ in range(10)))
    assert [r.status_code for r in responses] == [200] * 10, [r.text for r in responses]
    assert len({r.json()["refreshToken"] for r in responses}) == 1
    assert len({r.json()["accessToken"] for r in responses}) == 1
    # Exactly one rotation happened: the stored current token is the one everybody got.
    assert await _hashes(client, body) == (digest(responses[0].json()["refreshToken"]), digest(body["refreshToken"]))


async def test_concurrent_refreshes_without_grace_mint_at_most_one_and_never_500(
    make_client: ClientFactory,
) -> None:
    async with make_client(refresh_reuse_grace_seconds=0) as client:
        body = await _signed_in(client)
        responses = await asyncio.gather(*(_refresh(client, body["refreshToken"]) for _ in range(10)))
        statuses = sorted(r.status_code for r in responses)
        assert set(statuses) <= {200, 401}, [r.text for r in responses]
        assert statuses.count(200) <= 1
        # One rotation at most: the token before the current one is the original.
        assert (await _hashes(client, body))[1] == digest(body["refreshToken"])


async def test_expired_refresh_token_is_refused(client: httpx.AsyncClient) -> None:
    body = await _signed_in(client)
    await sql(
        client,
        update(Session)
        .where(Session.refresh_hash == digest(body["refreshToken"]))
        .values(expires_at=utcnow() - timedelta(seconds=1)),
    )
    assert (await _refresh(client, body["refreshToken"])).status_code == 401


async def test_refresh_slides_the_session_lifetime(make_client: ClientFactory) -> None:
    async with make_client(refresh_token_ttl_seconds=3600) as client:
        body = await _signed_in(client)
        await sql(client, update(Session).values(expires_at=utcnow() + timedelta(seconds=60)))
        out = (await _refresh(client, body["refreshToken"])).json()
        sessions = (await client.get("/sessions", headers=bearer(out["accessToken"]))).json()
        assert sessions[0]["expiresAt"] > (utcnow() + timedelta(seconds=3500)).strftime("%Y-%m-%dT%H:%M:%S")


async def test_a_disabled_user_cannot_refresh(client: httpx.AsyncClient) -> None:
    body = await _signed_in(client)
    await sql(client, update(User).values(disabled=True))
    assert (await _refresh(client, body["refreshToken"])).status_code == 401


async def test_refreshed_access_token_keeps_the_session_and_claims(client: httpx.AsyncClient) -> None:
    body = await _signed_in(client)
    out = (await _refresh(client, body["refreshToken"])).json()
    old = runtime_claims(client, body["accessToken"])
    new = runtime_claims(client, out["accessToken"])
    assert new["sid"] == old["sid"] and new["sub"] == old["sub"] and new["amr"] == ["pwd"]
    assert out["user"]["email"] == "ada@example.com"


def runtime_claims(client: httpx.AsyncClient, token: str) -> dict[str, object]:
    return runtime(client).codec.decode_known(token, purpose="access")


async def test_a_refresh_waits_its_turn_while_another_transaction_holds_the_session(
    client: httpx.AsyncClient,
) -> None:
    """Another transaction writes the session and stays open: the rotation must wait for it
    (PostgreSQL: the row's lock; SQLite: the database's write lock, which the hot lane's
    connection finds taken at once, so it goes through the driver's thread and waits there)
    and then rotate, never fail."""
    body = await _signed_in(client)
    async with runtime(client).engine.begin() as held:
        await held.execute(update(Session).where(Session.id == _sid(client, body)).values(last_used_at=utcnow()))
        pending = asyncio.create_task(_refresh(client, body["refreshToken"]))
        await asyncio.sleep(0.3)  # the refresh reaches the database while the lock is held
        assert not pending.done()
    answer = await pending
    assert answer.status_code == 200, answer.text
    assert await _hashes(client, body) == (digest(answer.json()["refreshToken"]), digest(body["refreshToken"]))


async def test_the_same_pair_after_an_upgrade_from_sealed_pairs(client: httpx.AsyncClient) -> None:
    """Sessions rotated before the successor alone was sealed carry the sealed pair, bound to
    the session id: within the grace window it is still handed back."""
    body = await _signed_in(client)
    first = (await _refresh(client, body["refreshToken"])).json()
    pair = runtime(client).box.seal(
        json.dumps({"r": first["refreshToken"], "a": first["accessToken"]}), context=_sid(client, body)
    )
    await sql(client, update(Session).where(Session.id == _sid(client, body)).values(successor_sealed=pair))
    again = await _refresh(client, body["refreshToken"])
    assert again.status_code == 200, again.text
    assert (again.json()["refreshToken"], again.json()["accessToken"]) == (first["refreshToken"], first["accessToken"])
