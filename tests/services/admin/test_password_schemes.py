"""The operator's view of a migration of hashes: `passwordScheme` in the administrators' view of
a user and only there, `GET /users?passwordScheme=`, and the counts `authgate user stats`
prints. None of them ever shows a hash, a salt or a hash parameter. On SQLite and PostgreSQL."""

from __future__ import annotations

import bcrypt
import httpx

from authgate.services.admin.password_stats import password_stats
from tests.support.app import runtime, sql
from tests.support.http import STRONG_PASSWORD, admin_token, bearer, register


async def accounts(client: httpx.AsyncClient) -> dict[str, str]:
    """Three accounts: one on the configured scheme, one on an imported plain bcrypt hash, one
    without a password; their ids by email."""
    ids = {}
    for email in ("new@example.com", "old@example.com"):
        ids[email] = (await register(client, email=email)).json()["user"]["id"]
    await sql(
        client,
        "UPDATE users SET password_scheme = 'bcrypt', password_hash = :h WHERE email_key = 'old@example.com'",
        h=bcrypt.hashpw(STRONG_PASSWORD.encode(), bcrypt.gensalt(4)).decode(),
    )
    ids["none@example.com"] = (await register(client, email="none@example.com", password=None)).json()["user"]["id"]
    return ids


async def test_administrators_see_each_accounts_scheme_and_no_one_sees_a_hash(client: httpx.AsyncClient) -> None:
    ids = await accounts(client)
    admin = await admin_token(client)
    expected = {"new@example.com": "bcrypt-hmac-sha256", "old@example.com": "bcrypt", "none@example.com": None}
    for email, scheme in expected.items():
        seen = await client.get(f"/user/{ids[email]}", headers=bearer(admin))
        assert seen.status_code == 200 and seen.json()["passwordScheme"] == scheme
        assert "$2b$" not in seen.text and "$2a$" not in seen.text
    listed = (await client.get("/users", headers=bearer(admin))).json()["items"]
    assert {u["email"]: u["passwordScheme"] for u in listed if u["email"] in expected} == expected


async def test_the_scheme_is_never_in_a_self_service_answer(client: httpx.AsyncClient) -> None:
    """It tells an attacker holding a stolen session which hash family to go after."""
    signed_in = await register(client)
    token, user_id = signed_in.json()["token"], signed_in.json()["user"]["id"]
    answers = [
        signed_in,
        await client.post("/login", json={"email": "ada@example.com", "password": STRONG_PASSWORD}),
        await client.get("/user", headers=bearer(token)),
        await client.get("/profile", headers=bearer(token)),
        await client.get(f"/user/{user_id}", headers=bearer(token)),
        await client.put(f"/user/{user_id}", headers=bearer(token), json={"name": "Ada"}),
        await client.put("/user", headers=bearer(token), json={"name": "Ada L."}),
    ]
    for answer in answers:
        assert answer.status_code in (200, 201), answer.text
        assert "passwordScheme" not in answer.text and "bcrypt" not in answer.text, answer.request.url


async def test_the_list_filters_by_scheme_and_by_no_password(client: httpx.AsyncClient) -> None:
    await accounts(client)
    admin = await admin_token(client)

    async def emails(scheme: str) -> set[str]:
        answer = await client.get("/users", params={"passwordScheme": scheme}, headers=bearer(admin))
        assert answer.status_code == 200, answer.text
        return {u["email"] for u in answer.json()["items"]}

    assert await emails("bcrypt") == {"old@example.com"}
    assert await emails("none") == {"none@example.com"}
    assert await emails("bcrypt-hmac-sha256") == {"new@example.com", "root@example.com"}
    assert await emails("pbkdf2-sha256") == set()
    unknown = await client.get("/users", params={"passwordScheme": "md5"}, headers=bearer(admin))
    assert unknown.status_code == 400 and unknown.json()["errors"][0]["field"] == "passwordScheme"


async def test_stats_count_schemes_and_the_hashes_the_next_sign_in_replaces(client: httpx.AsyncClient) -> None:
    await accounts(client)
    # On the configured scheme, but at another cost: outdated too.
    await register(client, email="costly@example.com")
    await sql(client, "UPDATE users SET password_hash = :h WHERE email_key = 'costly@example.com'",
              h="$2b$05$" + "a" * 53)  # fmt: skip
    stats = await password_stats(runtime(client))
    assert (stats.users, stats.without_password) == (4, 1)
    assert stats.schemes == {"bcrypt-hmac-sha256": 2, "bcrypt": 1}
    assert stats.outdated == 2  # the plain bcrypt hash and the cost-5 one
    assert (
        await client.post("/login", json={"email": "old@example.com", "password": STRONG_PASSWORD})
    ).status_code == 200
    after = await password_stats(runtime(client))
    assert after.schemes == {"bcrypt-hmac-sha256": 3} and after.outdated == 1
