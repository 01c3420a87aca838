"""`POST /users/import` (docs/guides/importing.md): accounts moved in with the hashes, the
authenticator seeds and the linked identities they had elsewhere. Each row all or nothing,
rows independent and in order, no secret repeated in the answer, nothing written by a dry run
or a refused request, and no row created twice when two imports race."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from typing import Any

import httpx
import pyotp
from argon2 import Type

from authgate.services.admin import users as users_admin
from tests.security.hashing.generators import argon2, bcrypt_hash, django, werkzeug
from tests.support.app import runtime, sql
from tests.support.delivery import MessagingClientFactory
from tests.support.http import STRONG_PASSWORD, admin_token, bearer, register
from tests.support.mail import Mailbox, link_in

ROOT = "root@example.com"
WRONG = "Not-The-Password-1"


def pw(name: str) -> str:
    """Each imported account's own password, so that no hash opens another's account."""
    return f"Old-{name}-Password-7"


def bcrypt_row(email: str, password: str | None = None, **extra: Any) -> dict[str, Any]:
    hashed = bcrypt_hash(b"2b", password or pw(email))
    return {"email": email, "emailVerified": True, "password": {"format": "bcrypt", "hash": hashed}, **extra}


async def admin(client: httpx.AsyncClient) -> dict[str, str]:
    return bearer(await admin_token(client, ROOT))


async def post_import(
    client: httpx.AsyncClient, headers: dict[str, str], rows: list[Any], *, dry_run: bool | None = None
) -> httpx.Response:
    body: dict[str, Any] = {"users": rows}
    if dry_run is not None:
        body["dryRun"] = dry_run
    return await client.post("/users/import", headers=headers, json=body)


async def imported(
    client: httpx.AsyncClient, headers: dict[str, str], rows: list[Any], *, dry_run: bool | None = None
) -> dict[str, Any]:
    response = await post_import(client, headers, rows, dry_run=dry_run)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    assert [r["index"] for r in answer["results"]] == list(range(len(rows))), "results in row order, one per row"
    return answer


def statuses(answer: dict[str, Any]) -> list[str]:
    return [r["status"] if r["status"] != "failed" else r["code"] for r in answer["results"]]


async def count(client: httpx.AsyncClient, statement: str, **params: Any) -> int:
    return int((await sql(client, statement, **params))[0][0])


async def footprint(client: httpx.AsyncClient) -> tuple[int, int, int, int, int, int]:
    """Everything an import may write: accounts, factors, identities, audit entries, events, outbox."""
    return (
        await count(client, "SELECT COUNT(*) FROM users"),
        await count(client, "SELECT COUNT(*) FROM mfa_totp"),
        await count(client, "SELECT COUNT(*) FROM linked_identities"),
        await count(client, "SELECT COUNT(*) FROM audit_log"),
        await count(client, "SELECT COUNT(*) FROM events"),
        await count(client, "SELECT COUNT(*) FROM outbox"),
    )


async def signs_in(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post("/login", json={"email": email, "password": password})


# What is imported works: passwords of every format, the authenticator, ids, times, identities.


async def test_a_mixed_batch_is_imported_and_each_old_password_signs_in(client: httpx.AsyncClient) -> None:
    """Hashes made by bcrypt, werkzeug, argon2-cffi and Django open their own account with the
    old password and with nothing else; a row without a password makes a passwordless account."""
    headers = await admin(client)
    made = {
        "bcrypt@example.com": {"format": "bcrypt", "hash": bcrypt_hash(b"2b", pw("bcrypt@example.com"))},
        "werkzeug@example.com": {
            "format": "werkzeug",
            "hash": werkzeug("pbkdf2:sha256:1000", pw("werkzeug@example.com")),
        },
        "argon2@example.com": {
            "format": "argon2",
            "hash": argon2(Type.ID, pw("argon2@example.com"), memory_kib=8, time_cost=1, parallelism=1),
        },
        "django@example.com": {"format": "django", "hash": django("pbkdf2_sha256", pw("django@example.com"))},
    }
    rows: list[dict[str, Any]] = [{"email": e, "emailVerified": True, "password": p} for e, p in made.items()]
    rows.append({"email": "nopass@example.com"})
    rows.append(bcrypt_row("totp@example.com", totpSecret=pyotp.random_base32()))
    rows.append(
        {"email": "social@example.com", "emailVerified": True, "identities": [{"provider": "google", "subject": "1"}]}
    )
    answer = await imported(client, headers, rows)
    assert statuses(answer) == ["created"] * 7, answer
    assert (answer["valid"], answer["created"], answer["failed"], answer["unverified"]) == (7, 7, 0, 1)
    assert answer["dryRun"] is False
    assert all(uuid.UUID(r["id"]) for r in answer["results"])

    schemes = dict(await sql(client, "SELECT email, password_scheme FROM users WHERE email <> :root", root=ROOT))
    assert schemes["bcrypt@example.com"] == "bcrypt"
    assert schemes["argon2@example.com"] == "argon2id"
    assert schemes["werkzeug@example.com"] == schemes["django@example.com"] == "pbkdf2-sha256"
    assert schemes["nopass@example.com"] is None and schemes["social@example.com"] is None

    for email in made:
        assert (await signs_in(client, email, WRONG)).status_code == 401, email
        ok = await signs_in(client, email, pw(email))
        assert ok.status_code == 200, (email, ok.text)
        assert ok.json()["user"]["email"] == email
        assert (await signs_in(client, email, WRONG)).status_code == 401, f"{email} after its rehash"
        assert (await signs_in(client, email, pw(email))).status_code == 200, f"{email} after its rehash"
    assert (await signs_in(client, "nopass@example.com", WRONG)).status_code == 401


async def test_id_and_created_at_are_kept(client: httpx.AsyncClient) -> None:
    """The old system's id and creation time stay, so that apps' references keep pointing at the user."""
    headers = await admin(client)
    kept = str(uuid.uuid4())
    answer = await imported(
        client, headers, [bcrypt_row("old@example.com", id=kept, createdAt="2019-12-06T18:36:12+02:00")]
    )
    assert answer["results"][0]["id"] == kept
    shown = await client.get(f"/user/{kept}", headers=headers)
    assert shown.status_code == 200, shown.text
    assert shown.json()["created_at"].startswith("2019-12-06T16:36:12")
    assert shown.json()["email"] == "old@example.com" and shown.json()["passwordScheme"] == "bcrypt"


async def test_an_imported_authenticator_is_the_second_step_and_no_recovery_codes_are_made(
    client: httpx.AsyncClient,
) -> None:
    """The user keeps their authenticator app: the password alone answers `mfa_required`, and a
    code of the imported seed completes the sign-in."""
    headers = await admin(client)
    secret = pyotp.random_base32()
    spaced = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)).lower()  # as apps show it
    answer = await imported(client, headers, [bcrypt_row("totp@example.com", totpSecret=spaced)])
    user_id = answer["results"][0]["id"]
    assert (await client.get(f"/user/{user_id}", headers=headers)).json()["mfaEnabled"] is True
    assert await count(client, "SELECT COUNT(*) FROM mfa_recovery_codes WHERE user_id = :u", u=user_id) == 0

    first = await signs_in(client, "totp@example.com", pw("totp@example.com"))
    assert first.status_code == 401 and first.json()["code"] == "mfa_required", first.text
    code = pyotp.TOTP(secret).now()
    done = await client.post("/mfa/verify", json={"mfaToken": first.json()["mfaToken"], "code": code})
    assert done.status_code == 200, done.text
    assert done.json()["user"]["id"] == user_id


async def test_identities_are_linked(client: httpx.AsyncClient) -> None:
    headers = await admin(client)
    identities = [
        {"provider": "google", "subject": "104839"},
        {"provider": "github", "subject": "583231", "email": "a@gh.example"},
    ]
    answer = await imported(
        client, headers, [{"email": "ada@example.com", "emailVerified": True, "identities": identities}]
    )
    user_id = answer["results"][0]["id"]
    linked = await sql(
        client, "SELECT provider, subject, email FROM linked_identities WHERE user_id = :u ORDER BY provider", u=user_id
    )
    assert [tuple(r) for r in linked] == [("github", "583231", "a@gh.example"), ("google", "104839", None)]


async def test_each_created_account_is_audited_and_announced_and_nothing_is_sent(client: httpx.AsyncClient) -> None:
    """An audit entry `user.created` (via import, the admin as actor) and an event `user.created`
    per account; no mail, SMS or session."""
    headers = await admin(client)
    admin_id = (await client.get("/user", headers=headers)).json()["id"]
    outbox_before = await count(client, "SELECT COUNT(*) FROM outbox")
    sessions_before = await count(client, "SELECT COUNT(*) FROM sessions")
    rows = [bcrypt_row("a@example.com"), {"email": "b@example.com", "phone": "+14155550123"}]
    answer = await imported(client, headers, rows)
    ids = {r["id"] for r in answer["results"]}

    audit = await sql(client, "SELECT user_id, actor_id, data FROM audit_log WHERE type = 'user.created'")
    imported_audit = [r for r in audit if r[0] in ids]
    assert len(imported_audit) == 2
    for _, actor, data in imported_audit:
        assert actor == admin_id and json.loads(data)["via"] == "import"

    events = [json.loads(d) for (d,) in await sql(client, "SELECT data FROM events WHERE type = 'user.created'")]
    mine = [e for e in events if e.get("userId") in ids]
    assert sorted((e["email"], e["via"]) for e in mine) == [("a@example.com", "import"), ("b@example.com", "import")]

    assert await count(client, "SELECT COUNT(*) FROM outbox") == outbox_before
    assert await count(client, "SELECT COUNT(*) FROM sessions") == sessions_before


# A dry run.


async def test_a_dry_run_writes_nothing_and_counts_as_the_real_run(client: httpx.AsyncClient) -> None:
    """Every check of a real run, with the run's own earlier rows counted as created, and not one
    account, factor, identity, audit entry or event written."""
    headers = await admin(client)
    await register(client, "existing@example.com")
    rows: list[Any] = [
        bcrypt_row("a@example.com"),
        {"email": "b@example.com", "emailVerified": False},
        bcrypt_row("A@example.com"),  # a duplicate of row 0
        bcrypt_row("existing@example.com"),
        {"email": "c@example.com", "emailVerified": True, "totpSecret": pyotp.random_base32(),
         "identities": [{"provider": "google", "subject": "9"}]},
        {"email": "d@example.com", "emailVerified": False, "identities": [{"provider": "google", "subject": "9"}]},
        {"email": "e@example.com", "role": "nope"},
        "not an object",
    ]  # fmt: skip
    before = await footprint(client)
    dry = await imported(client, headers, rows, dry_run=True)
    assert await footprint(client) == before
    assert dry["dryRun"] is True and dry["created"] == 0
    assert statuses(dry) == [
        "valid", "valid", "email_taken", "email_taken", "valid", "identity_taken", "validation_failed",
        "validation_failed",
    ]  # fmt: skip
    assert not any("id" in r for r in dry["results"])

    real = await imported(client, headers, rows)
    assert (real["valid"], real["unverified"], real["failed"]) == (dry["valid"], dry["unverified"], dry["failed"])
    assert (real["valid"], real["unverified"]) == (3, 1)
    assert [s.replace("created", "valid") for s in statuses(real)] == statuses(dry)


# The request itself refused: nothing imported.


async def test_importing_needs_a_token_and_users_write(client: httpx.AsyncClient) -> None:
    plain = bearer((await register(client, "plain@example.com")).json()["token"])
    body = {"users": [bcrypt_row("a@example.com")]}
    assert (await client.post("/users/import", json=body)).status_code == 401
    refused = await client.post("/users/import", json=body, headers=plain)
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden", refused.text
    assert await count(client, "SELECT COUNT(*) FROM users WHERE email = 'a@example.com'") == 0


async def test_a_malformed_request_is_400_naming_users(client: httpx.AsyncClient) -> None:
    headers = await admin(client)
    before = await footprint(client)
    for body in ({}, {"users": "a@example.com"}, {"users": {"email": "a@example.com"}}, {"users": []},
                 {"users": [{"email": f"u{n}@example.com"} for n in range(1001)]}):  # fmt: skip
        response = await client.post("/users/import", headers=headers, json=body)
        assert response.status_code == 400, (str(body)[:80], response.text)
        assert response.json()["code"] == "validation_failed"
        assert "users" in {e["field"] for e in response.json()["errors"]}, response.text
    assert await footprint(client) == before
    thousand = await imported(client, headers, [{"email": f"u{n}@example.com"} for n in range(1000)], dry_run=True)
    assert thousand["valid"] == 1000


async def test_the_body_limit_is_64_times_the_usual_one_and_json_only(client: httpx.AsyncClient) -> None:
    headers = await admin(client)
    limit = 64 * runtime(client).settings.max_body_bytes
    assert limit == 4 * 1024 * 1024

    def body_of(size: int) -> bytes:
        head, tail = b'{"users": [{"email": "big@example.com", "name": "', b'"}]}'
        return head + b"a" * (size - len(head) - len(tail)) + tail

    json_type = {**headers, "Content-Type": "application/json"}
    over = await client.post("/users/import", headers=json_type, content=body_of(limit + 1))
    assert over.status_code == 413, over.text[:200]
    under = await client.post("/users/import", headers=json_type, content=body_of(limit - 1024))
    assert under.status_code == 200, under.text[:200]  # the row fails on its name; the request is taken
    assert under.json()["results"][0]["errors"][0]["field"] == "name"
    other_route = await client.post("/user", headers=json_type, content=body_of(200_000))
    assert other_route.status_code == 413  # the larger limit is the import's alone

    text = await client.post(
        "/users/import",
        headers={**headers, "Content-Type": "text/plain"},
        content=json.dumps({"users": [{"email": "t@example.com"}]}),
    )
    assert text.status_code == 415, text.text
    assert await count(client, "SELECT COUNT(*) FROM users WHERE email IN ('big@example.com', 't@example.com')") == 0


# Roles.


async def test_an_unknown_role_fails_the_row_naming_role(client: httpx.AsyncClient) -> None:
    answer = await imported(client, await admin(client), [{"email": "a@example.com", "role": "superuser"}])
    result = answer["results"][0]
    assert result["code"] == "validation_failed" and [e["field"] for e in result["errors"]] == ["role"]


async def test_a_caller_cannot_import_accounts_with_more_than_it_holds(client: httpx.AsyncClient) -> None:
    """An importer with `users:write` alone cannot mint administrators."""
    headers = await admin(client)
    made = await client.post(
        "/roles", headers=headers, json={"name": "importer", "caps": ["users:write", "users:read"]}
    )
    assert made.status_code == 201, made.text
    await users_admin.create_user(
        runtime(client), email="importer@example.com", password=STRONG_PASSWORD, role="importer", verified=True
    )
    importer = bearer((await signs_in(client, "importer@example.com", STRONG_PASSWORD)).json()["token"])
    rows = [
        bcrypt_row("boss@example.com", role="admin"),
        bcrypt_row("peer@example.com", role="importer"),
        bcrypt_row("plain@example.com"),
    ]
    answer = await imported(client, importer, rows)
    assert statuses(answer) == ["forbidden", "created", "created"]
    assert await count(client, "SELECT COUNT(*) FROM users WHERE email = 'boss@example.com'") == 0


# Collisions: the existing account is never touched.


async def test_duplicates_in_the_request_and_of_existing_accounts_fail_and_change_nothing(
    client: httpx.AsyncClient,
) -> None:
    headers = await admin(client)
    await register(client, "ada@example.com", username="ada")
    before = (await sql(client, "SELECT id, password_hash, updated_at FROM users WHERE email = 'ada@example.com'"))[0]
    rows = [
        bcrypt_row("Ada@Example.com", WRONG),  # the existing account, another case
        bcrypt_row("bob@example.com"),
        bcrypt_row("BOB@example.com", WRONG),  # an earlier row
        bcrypt_row("carol@example.com", username="ADA"),
        bcrypt_row("dan@example.com", username="dan"),
        bcrypt_row("erin@example.com", username="Dan"),
    ]
    answer = await imported(client, headers, rows)
    assert statuses(answer) == ["email_taken", "created", "email_taken", "username_taken", "created", "username_taken"]
    after = (await sql(client, "SELECT id, password_hash, updated_at FROM users WHERE email = 'ada@example.com'"))[0]
    assert tuple(after) == tuple(before)
    assert (await signs_in(client, "ada@example.com", STRONG_PASSWORD)).status_code == 200
    assert (await signs_in(client, "ada@example.com", WRONG)).status_code == 401
    assert (await signs_in(client, "bob@example.com", pw("bob@example.com"))).status_code == 200
    assert (await signs_in(client, "bob@example.com", WRONG)).status_code == 401
    assert (
        await count(client, "SELECT COUNT(*) FROM users WHERE email IN ('carol@example.com', 'erin@example.com')") == 0
    )


async def test_a_taken_id_or_identity_fails_the_row(client: httpx.AsyncClient) -> None:
    headers = await admin(client)
    existing_id = (await register(client, "ada@example.com")).json()["user"]["id"]
    kept = str(uuid.uuid4())
    first = await imported(
        client, headers,
        [{"email": "linked@example.com", "emailVerified": True, "identities": [{"provider": "google", "subject": "7"}]}],
    )  # fmt: skip
    assert statuses(first) == ["created"]
    rows = [
        {"email": "a@example.com", "id": existing_id},
        {"email": "b@example.com", "id": kept},
        {"email": "c@example.com", "id": kept.upper()},  # the same UUID, written otherwise
        {"email": "d@example.com", "emailVerified": True, "identities": [{"provider": "google", "subject": "7"}]},
        {"email": "e@example.com", "emailVerified": True, "identities": [{"provider": "github", "subject": "8"}]},
        {"email": "f@example.com", "emailVerified": True, "identities": [{"provider": "github", "subject": "8"}]},
        {"email": "g@example.com", "emailVerified": True, "identities": [{"provider": "gitlab", "subject": "7"}]},
    ]
    answer = await imported(client, headers, rows)
    assert statuses(answer) == [
        "id_taken",
        "created",
        "id_taken",
        "identity_taken",
        "created",
        "identity_taken",
        "created",
    ]
    assert await count(client, "SELECT COUNT(*) FROM linked_identities") == 3
    assert (
        await count(client, "SELECT COUNT(*) FROM users WHERE email = 'ada@example.com' AND id = :i", i=existing_id)
        == 1
    )


# Rows refused on their own.


async def test_unknown_fields_fail_the_row_at_any_depth(client: httpx.AsyncClient) -> None:
    """A field the export forgot to map (`email_verified`) is never dropped without a word."""
    headers = await admin(client)
    rows = [
        {**bcrypt_row("a@example.com"), "email_verified": True},
        bcrypt_row("b@example.com") | {"password": {**bcrypt_row("b@example.com")["password"], "foo": 1}},
        {
            "email": "c@example.com",
            "emailVerified": True,
            "identities": [{"provider": "google", "subject": "1", "foo": 1}],
        },
    ]
    answer = await imported(client, headers, rows)
    assert statuses(answer) == ["validation_failed"] * 3
    fields = [[e["field"] for e in r["errors"]] for r in answer["results"]]
    assert fields == [["email_verified"], ["password.foo"], ["identities[0].foo"]]
    assert await count(client, "SELECT COUNT(*) FROM users") == 1


async def test_a_row_with_a_secret_must_say_whether_its_address_is_verified(client: httpx.AsyncClient) -> None:
    headers = await admin(client)
    password = bcrypt_row("a@example.com")["password"]
    rows: list[Any] = [
        {"email": "a@example.com", "password": password},
        {"email": "b@example.com", "totpSecret": pyotp.random_base32()},
        {"email": "c@example.com", "identities": [{"provider": "google", "subject": "1"}]},
        {"email": "d@example.com"},  # nothing to lose: the default, unverified, is fine
    ]
    answer = await imported(client, headers, rows)
    assert statuses(answer) == ["validation_failed"] * 3 + ["created"]
    for result in answer["results"][:3]:
        assert [e["field"] for e in result["errors"]] == ["emailVerified"]
    assert answer["unverified"] == 1


async def test_refused_hashes_leave_nothing_behind(client: httpx.AsyncClient) -> None:
    """A fast hash, a bcrypt cost no sign-in should pay, and a broken hash: the row fails and
    no account, factor, identity, audit entry or event is left."""
    headers = await admin(client)
    password = "Old-Password-7"
    md5 = "md5$salt$" + hashlib.md5(b"salt" + password.encode()).hexdigest()  # noqa: S324 - the point
    real = bcrypt_hash(b"2b", password)
    costly = "$2b$16$" + real[len("$2b$04$") :]
    extra = {
        "emailVerified": True,
        "totpSecret": pyotp.random_base32(),
        "identities": [{"provider": "google", "subject": "1"}],
    }
    rows = [
        {"email": "fast@example.com", "password": {"format": "django", "hash": md5}, **extra},
        {"email": "costly@example.com", "password": {"format": "bcrypt", "hash": costly}, **extra},
        {"email": "broken@example.com", "password": {"format": "bcrypt", "hash": real[:-5]}, **extra},
        {"email": "werkzeug@example.com", "password": {"format": "werkzeug", "hash": "plain$$" + password}, **extra},
    ]
    before = await footprint(client)
    answer = await imported(client, headers, rows)
    assert statuses(answer) == ["unsupported_hash", "hash_cost_too_high", "invalid_hash", "unsupported_hash"]
    assert await footprint(client) == before
    for row in rows:
        assert row["password"]["hash"] not in json.dumps(answer)


async def test_a_failing_row_does_not_stop_the_rows_after_it(client: httpx.AsyncClient) -> None:
    headers = await admin(client)
    rows: list[Any] = []
    for n in range(12):
        rows.append(bcrypt_row(f"u{n}@example.com") if n % 4 else {"email": f"bad{n}@", "emailVerified": True})
    rows.insert(6, 42)
    answer = await imported(client, headers, rows)
    expected = ["validation_failed" if isinstance(r, int) or "bad" in r["email"] else "created" for r in rows]
    assert statuses(answer) == expected
    assert answer["created"] == 9 and answer["failed"] == 4
    assert await count(client, "SELECT COUNT(*) FROM users") == 10
    assert answer["results"][6]["email"] is None


async def test_no_answer_repeats_a_hash_or_a_seed(client: httpx.AsyncClient) -> None:
    """Not in a created row, a failed one, a dry run or a field error's message."""
    headers = await admin(client)
    seed = pyotp.random_base32()
    good = bcrypt_row("a@example.com", totpSecret=seed)
    given = [
        good,
        {**bcrypt_row("a@example.com", totpSecret=seed)},  # email_taken
        bcrypt_row("b@example.com", role="nope"),
        {
            "email": "c@example.com",
            "emailVerified": True,
            "password": {"format": "argon2", "hash": good["password"]["hash"]},
        },
        {
            "email": "d@example.com",
            "emailVerified": True,
            "password": {"format": "bcrypt", "hash": good["password"]["hash"] + "x"},
        },
        {
            "email": "e@example.com",
            "emailVerified": True,
            "password": {"format": "django", "hash": "sha1$salt$" + "ab" * 20},
        },
        {"email": "f@example.com", "emailVerified": True, "totpSecret": seed + "1"},
    ]
    secrets = {r["password"]["hash"] for r in given if "password" in r} | {seed, seed + "1", "ab" * 20}
    for dry_run in (True, False):
        response = await post_import(client, headers, given, dry_run=dry_run)
        assert response.status_code == 200
        for secret in secrets:
            assert secret not in response.text, secret
            assert secret[7:] not in response.text, secret  # not even a bcrypt hash's salt and digest
    stored = await sql(client, "SELECT password_hash FROM users WHERE email = 'a@example.com'")
    assert stored[0][0] is not None


# Two imports at once.


async def race(client: httpx.AsyncClient, rows: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The same rows imported by two requests at once; each answer must be a 200."""
    headers = await admin(client)
    first, second = await asyncio.gather(post_import(client, headers, rows), post_import(client, headers, rows))
    assert first.status_code == 200, first.text
    assert second.status_code == 200, second.text
    return first.json(), second.json()


def assert_each_row_created_once(answers: tuple[dict[str, Any], dict[str, Any]], rows: int) -> None:
    """Each row created by exactly one of the two imports; the other's row fails `email_taken`,
    as it would had the imports come one after the other."""
    for n in range(rows):
        results = [answer["results"][n] for answer in answers]
        assert sorted(r["status"] for r in results) == ["created", "failed"], (n, results)
        loser = next(r for r in results if r["status"] == "failed")
        assert loser["code"] == "email_taken", (n, loser)
    assert answers[0]["created"] + answers[1]["created"] == rows


async def test_two_imports_of_the_same_rows_at_once_create_each_account_once(client: httpx.AsyncClient) -> None:
    rows = [bcrypt_row(f"race{n}@example.com") for n in range(50)]
    assert_each_row_created_once(await race(client, rows), 50)
    assert await count(client, "SELECT COUNT(*) FROM users WHERE email LIKE 'race%'") == 50
    audited = await count(
        client,
        "SELECT COUNT(*) FROM audit_log WHERE type = 'user.created'"
        " AND user_id IN (SELECT id FROM users WHERE email LIKE 'race%')",
    )
    assert audited == 50
    announced = await sql(client, "SELECT data FROM events WHERE type = 'user.created'")
    assert sum(json.loads(d)["email"].startswith("race") for (d,) in announced) == 50


async def test_racing_rows_with_usernames_and_identities_fail_email_taken_like_sequential_ones(
    client: httpx.AsyncClient,
) -> None:
    """A row that repeats another's email, username and identity fails `email_taken` when the
    imports come one after the other; the loser of a race must get the same answer, whichever
    unique index the database happens to check first."""
    rows = [bcrypt_row(f"race{n}@example.com", username=f"racer{n}") for n in range(20)]
    rows[10]["identities"] = [{"provider": "google", "subject": "race"}]
    assert_each_row_created_once(await race(client, rows), 20)
    assert await count(client, "SELECT COUNT(*) FROM users WHERE email LIKE 'race%'") == 20
    assert await count(client, "SELECT COUNT(*) FROM linked_identities WHERE subject = 'race'") == 1


async def test_a_lost_race_names_the_key_taken_not_a_word_in_the_address(client: httpx.AsyncClient) -> None:
    """The loser of a race learns which key was taken from the database's complaint; an address
    that happens to contain `provider` or `username` must still fail `email_taken`."""
    rows = [bcrypt_row(f"provider.username{n}@example.com") for n in range(20)]
    assert_each_row_created_once(await race(client, rows), 20)


async def test_times_ids_and_seeds_are_checked(client: httpx.AsyncClient) -> None:
    headers = await admin(client)
    rows: list[Any] = [
        {"email": "a@example.com", "createdAt": "2019-12-06T18:36:12"},  # no offset
        {"email": "b@example.com", "createdAt": "2019-12-06"},
        {"email": "c@example.com", "createdAt": "2999-01-01T00:00:00Z"},  # the future
        {"email": "d@example.com", "id": "42"},
        bcrypt_row("e@example.com", totpSecret="ABCDEFGH"),  # too short
        bcrypt_row("f@example.com", totpSecret="0189" * 5),  # not base32
        {"email": "g@example.com", "createdAt": "2019-12-06T18:36:12Z", "id": str(uuid.uuid4())},
    ]
    answer = await imported(client, headers, rows)
    assert statuses(answer) == ["validation_failed"] * 6 + ["created"]
    fields = [[e["field"] for e in r.get("errors", [])] for r in answer["results"][:6]]
    assert fields == [["createdAt"], ["createdAt"], ["createdAt"], ["id"], ["totpSecret"], ["totpSecret"]]


async def test_pre_registration_takeover_an_unverified_import_is_claimed_by_the_addresss_owner(
    messaging_client: MessagingClientFactory, mailbox: Mailbox
) -> None:
    """An imported address that was never verified proves nothing about who set its password,
    authenticator and linked provider: the owner's first reset link claims the account and
    removes all three, as for an account registered by someone else."""
    async with messaging_client() as client:
        headers = await admin(client)
        seed = pyotp.random_base32()
        row = bcrypt_row(
            "owner@example.com",
            emailVerified=False,
            totpSecret=seed,
            identities=[{"provider": "github", "subject": "planted-1"}],
        )
        answer = await imported(client, headers, [row])
        assert answer["unverified"] == 1 and answer["created"] == 1
        planted = await client.post("/login", json={"email": "owner@example.com", "password": pw("owner@example.com")})
        assert planted.status_code == 401 and planted.json()["code"] == "mfa_required"

        assert (await client.post("/password/forgot", json={"email": "owner@example.com"})).status_code == 202
        reset = link_in(await mailbox.wait_for("owner@example.com"), "/password/reset/")
        assert (await client.post(reset, json={"password": "Owners-Own-Pass-9"})).status_code == 200

        assert (await signs_in(client, "owner@example.com", pw("owner@example.com"))).status_code == 401
        owner = await signs_in(client, "owner@example.com", "Owners-Own-Pass-9")
        assert owner.status_code == 200, owner.text  # no second step: the planted authenticator is gone
        assert await count(client, "SELECT COUNT(*) FROM linked_identities") == 0
        assert await count(client, "SELECT COUNT(*) FROM mfa_totp") == 0
