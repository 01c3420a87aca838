"""Account lockout over HTTP, with the counts in this process and in Redis, on both databases.

Five failed checks of any secret of one account (a password, a second-factor code however
many mfaTokens were minted, a one-time code, a current password behind an access token)
lock it; unknown identifiers lock the same way; the counting is exact under parallel
requests; a completed sign-in forgets the failures; locks grow on repeat; an admin can
lift one."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from functools import partial
from typing import Any

import httpx
import pytest

from authgate.services.admin import users as users_admin
from tests.support.app import ClientFactory, runtime, sql
from tests.support.delivery import MessagingClientFactory
from tests.support.http import STRONG_PASSWORD, bearer, register
from tests.support.mail import Mailbox, link_in, mail_code
from tests.support.metrics import metrics_text, password_hashes
from tests.support.mfa import enrol, mfa_token

WRONG = "Wrong-Pass-123"
Factory = Any  # (**overrides) -> async context manager of an httpx client


@pytest.fixture(params=["memory", "redis"])
def lockout_state(request: pytest.FixtureRequest) -> dict[str, str]:
    """Settings that put the lockout counts in this process, or in Redis."""
    if request.param == "memory":
        return {}
    return {
        "redis_url": request.getfixturevalue("redis_url"),
        "redis_key_prefix": request.getfixturevalue("redis_prefix"),
    }


@pytest.fixture
def locking(make_client: ClientFactory, lockout_state: dict[str, str]) -> Factory:
    return partial(make_client, **lockout_state)  # keywords given at the call win


@pytest.fixture
async def client(locking: Factory) -> AsyncIterator[httpx.AsyncClient]:
    async with locking() as c:
        yield c


def login(email: str = "ada@example.com", password: str = WRONG, **extra: str) -> dict[str, str]:
    return {"email": email, "password": password, **extra}


def assert_locked(response: httpx.Response) -> int:
    """The lockout answer; the seconds it asks the client to wait."""
    assert response.status_code == 429, response.text
    assert response.json()["code"] == "account_locked"
    assert response.headers["content-type"].startswith("application/problem+json")
    return int(response.headers["retry-after"])


async def password_checks(client: httpx.AsyncClient) -> int:
    """How many password hashes were verified (the metric the hasher keeps)."""
    return int(await password_hashes(client, "verify"))


async def test_five_wrong_passwords_lock_the_account(client: httpx.AsyncClient) -> None:
    await register(client)
    for _ in range(5):
        assert (await client.post("/login", json=login())).status_code == 401
    assert assert_locked(await client.post("/login", json=login())) == 900
    # Even the right password, and through another identifier of the same account.
    assert_locked(await client.post("/login", json=login(password=STRONG_PASSWORD)))
    assert_locked(await client.post("/login", json={"email": "ADA@example.com", "password": STRONG_PASSWORD}))


async def test_a_username_and_an_email_share_one_count(client: httpx.AsyncClient) -> None:
    await register(client, username="ada")
    for body in [login(), {"username": "ada", "password": WRONG}] * 2 + [{"name": "ADA", "pin": WRONG}]:
        assert (await client.post("/login", json=body)).status_code == 401
    assert_locked(await client.post("/login", json={"username": "ada", "password": STRONG_PASSWORD}))


async def test_unknown_accounts_lock_the_same_way(client: httpx.AsyncClient) -> None:
    """No enumeration through the lockout: same codes, same headers, same body shape."""
    await register(client)
    known = [await client.post("/login", json=login()) for _ in range(6)]
    unknown = [await client.post("/login", json=login(email="ghost@example.com")) for _ in range(6)]
    assert [r.status_code for r in known] == [r.status_code for r in unknown] == [401] * 5 + [429]
    assert known[-1].json() == unknown[-1].json()
    assert known[-1].headers["retry-after"] == unknown[-1].headers["retry-after"]


async def test_twenty_parallel_wrong_passwords_run_at_most_five_checks(client: httpx.AsyncClient) -> None:
    await register(client)
    before = await password_checks(client)
    responses = await asyncio.gather(*(client.post("/login", json=login()) for _ in range(20)))
    codes = Counter(r.json()["code"] for r in responses)
    assert codes == Counter({"invalid_credentials": 5, "account_locked": 15}), codes
    assert await password_checks(client) - before == 5
    failures = await sql(client, "SELECT count(*) FROM audit_log WHERE type = 'user.login_failed'")
    assert failures[0][0] == 5


async def test_twenty_parallel_right_passwords_all_sign_in(client: httpx.AsyncClient) -> None:
    """Checks beyond the threshold wait for a place rather than being refused: a user's
    devices signing in at once are not locked out."""
    await register(client)
    await client.post("/login", json=login())  # one failure already counted
    responses = await asyncio.gather(*(client.post("/login", json=login(password=STRONG_PASSWORD)) for _ in range(20)))
    assert [r.status_code for r in responses] == [200] * 20


async def test_parallel_guesses_for_an_unknown_identifier_are_exact_too(client: httpx.AsyncClient) -> None:
    before = await password_checks(client)
    responses = await asyncio.gather(*(client.post("/login", json=login(email="ghost@example.com")) for _ in range(20)))
    assert Counter(r.status_code for r in responses) == Counter({401: 5, 429: 15})
    assert await password_checks(client) - before == 5


async def test_twelve_wrong_second_factor_codes_lock_the_account_despite_fresh_mfa_tokens(
    client: httpx.AsyncClient,
) -> None:
    """Each `/login` with the right password mints a fresh mfaToken with fresh tries; the
    account's count does not start again with it."""
    account = await enrol(client)
    answers = []
    for attempt in range(12):
        if attempt % 2:
            body = account.login_body(mfaCode=account.app.wrong_code())
            answers.append(await client.post("/login", json=body))
        else:
            token = await mfa_token(client, account) if attempt < 5 else "unused"
            if attempt >= 5:  # locked by now: a password sign-in gets no token any more
                answers.append(await client.post("/login", json=account.login_body()))
                continue
            wrong = {"mfaToken": token, "code": account.app.wrong_code()}
            answers.append(await client.post("/mfa/verify", json=wrong))
    codes = [r.json()["code"] for r in answers]
    assert codes[:5] == ["invalid_mfa_code"] * 5, codes
    assert set(codes[5:]) == {"account_locked"}, codes
    # The right password and the right code are refused too, until the lock ends.
    right = account.login_body(mfaCode=await account.app.code())
    assert_locked(await client.post("/login", json=right))


async def test_an_mfa_token_minted_before_the_lock_is_refused(client: httpx.AsyncClient) -> None:
    account = await enrol(client)
    kept = await mfa_token(client, account)
    for _ in range(5):
        await client.post("/login", json=account.login_body(mfaCode=account.app.wrong_code()))
    assert_locked(await client.post("/mfa/verify", json={"mfaToken": kept, "code": await account.app.code()}))


async def test_checks_behind_an_access_token_count_toward_the_lock(client: httpx.AsyncClient) -> None:
    """A stolen access token gives no free guesses at the password or the second factor."""
    account = await enrol(client)
    auth = account.headers
    wrong_code = account.app.wrong_code()
    guesses = [
        client.put("/user", headers=auth, json={"currentPassword": WRONG, "password": "Another-Pass-456"}),
        client.post("/mfa/disable", headers=auth, json={"verificationCode": wrong_code}),
        client.put("/user", headers=auth, json={"currentPassword": WRONG, "password": "Another-Pass-456"}),
        client.post("/mfa/disable", headers=auth, json={"verificationCode": wrong_code}),
        client.post("/mfa/disable", headers=auth, json={"verificationCode": wrong_code}),
    ]
    for guess in guesses:
        assert (await guess).status_code == 401
    assert_locked(await client.post("/mfa/disable", headers=auth, json={"verificationCode": await account.app.code()}))
    assert_locked(await client.post("/login", json=account.login_body()))


async def test_a_completed_sign_in_forgets_the_failures(client: httpx.AsyncClient) -> None:
    await register(client)
    for _ in range(4):
        await client.post("/login", json=login())
    assert (await client.post("/login", json=login(password=STRONG_PASSWORD))).status_code == 200
    for _ in range(4):
        assert (await client.post("/login", json=login())).status_code == 401
    assert (await client.post("/login", json=login(password=STRONG_PASSWORD))).status_code == 200


async def test_a_right_password_waiting_for_its_second_factor_forgets_nothing(client: httpx.AsyncClient) -> None:
    account = await enrol(client)
    for _ in range(4):
        await client.post("/login", json=account.login_body(mfaCode=account.app.wrong_code()))
    assert (await client.post("/login", json=account.login_body())).json()["code"] == "mfa_required"
    await client.post("/login", json=account.login_body(mfaCode=account.app.wrong_code()))
    assert_locked(await client.post("/login", json=account.login_body()))


async def test_the_lock_ends_and_grows_on_repeat(locking: Factory) -> None:
    async with locking(lockout_seconds=1) as client:
        await register(client)
        for _ in range(5):
            await client.post("/login", json=login())
        assert assert_locked(await client.post("/login", json=login())) == 1
        await asyncio.sleep(1.1)
        for _ in range(5):
            assert (await client.post("/login", json=login())).status_code == 401
        assert (
            assert_locked(await client.post("/login", json=login())) == 2
        )  # the second lock in a row lasts twice as long
        await asyncio.sleep(2.1)
        assert (await client.post("/login", json=login(password=STRONG_PASSWORD))).status_code == 200


async def test_a_lock_is_audited_and_announced(client: httpx.AsyncClient) -> None:
    user_id = (await register(client)).json()["user"]["id"]
    for _ in range(5):
        await client.post("/login", json=login())
    audited = await sql(client, "SELECT user_id, ip_address FROM audit_log WHERE type = 'user.locked'")
    assert [tuple(row) for row in audited] == [(user_id, "203.0.113.7")]
    events = await sql(client, "SELECT data FROM events WHERE type = 'user.locked'")
    assert len(events) == 1 and user_id in events[0][0]


async def test_a_locked_account_cannot_sign_in_any_other_way(
    messaging_client: MessagingClientFactory, mailbox: Mailbox, lockout_state: dict[str, str]
) -> None:
    async with messaging_client(**lockout_state) as client:
        await register(client)
        for _ in range(5):
            await client.post("/login", json=login())
        await client.post("/login/magic", json={"email": "ada@example.com"})
        link = link_in(await mailbox.wait_for("ada@example.com"), "/login/magic/")
        assert_locked(await client.get(link.removeprefix("http://testserver")))
        await client.post("/otp/send", json={"channel": "email", "email": "ada@example.com"})
        code = mail_code(await mailbox.wait_for("ada@example.com", count=2))
        assert_locked(
            await client.post("/otp/verify", json={"channel": "email", "email": "ada@example.com", "code": code})
        )


async def test_wrong_one_time_codes_lock_like_passwords(
    messaging_client: MessagingClientFactory, mailbox: Mailbox, lockout_state: dict[str, str]
) -> None:
    """A new code does not reset the attempts left: the count is the account's, not the code's."""
    async with messaging_client(**lockout_state) as client:
        await register(client)
        statuses = []
        for sent in range(1, 7):
            await client.post("/otp/send", json={"channel": "email", "email": "ada@example.com"})
            code = mail_code(await mailbox.wait_for("ada@example.com", count=sent))
            wrong = f"{(int(code) + 1) % 1_000_000:06d}"
            body = {"channel": "email", "email": "ada@example.com", "code": wrong}
            statuses.append((await client.post("/otp/verify", json=body)).status_code)
        assert statuses == [401] * 5 + [429]
        assert_locked(await client.post("/login", json=login(password=STRONG_PASSWORD)))


async def test_sessions_already_open_keep_refreshing_while_locked(client: httpx.AsyncClient) -> None:
    """A lockout stops new sign-ins; it does not sign the owner out (anyone who knows the
    address could otherwise end their sessions by typing wrong passwords)."""
    refresh_token = (await register(client)).json()["refreshToken"]
    for _ in range(5):
        await client.post("/login", json=login())
    refreshed = await client.post("/refresh", json={"refreshToken": refresh_token})
    assert refreshed.status_code == 200, refreshed.text


async def test_an_admin_can_lift_a_lock(client: httpx.AsyncClient) -> None:
    user_id = (await register(client)).json()["user"]["id"]
    admin = await users_admin.create_user(
        runtime(client), email="root@example.com", password=STRONG_PASSWORD, role="admin"
    )
    admin_token = (await client.post("/login", json=login("root@example.com", STRONG_PASSWORD))).json()["token"]
    user_token = (await client.post("/login", json=login(password=STRONG_PASSWORD))).json()["token"]
    for _ in range(5):
        await client.post("/login", json=login())

    refused = await client.post(f"/user/{user_id}/unlock", headers=bearer(user_token))
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    missing = await client.post("/user/00000000-0000-0000-0000-000000000000/unlock", headers=bearer(admin_token))
    assert missing.status_code == 404

    lifted = await client.post(f"/user/{user_id}/unlock", headers=bearer(admin_token))
    assert lifted.status_code == 200 and lifted.json()["wasLocked"] is True
    assert (await client.post("/login", json=login(password=STRONG_PASSWORD))).status_code == 200
    audited = await sql(client, "SELECT user_id, actor_id FROM audit_log WHERE type = 'user.unlocked'")
    assert [tuple(row) for row in audited] == [(user_id, admin.id)]


async def test_refused_checks_are_counted_in_the_metrics(client: httpx.AsyncClient) -> None:
    await register(client)
    for _ in range(7):
        await client.post("/login", json=login())
    text = await metrics_text(client)
    assert 'authgate_logins_total{outcome="account_locked"} 2.0' in text
    assert 'authgate_logins_total{outcome="invalid_credentials"} 5.0' in text


@pytest.mark.parametrize("user_id", ["not-a-uuid", "x" * 300])
async def test_unlocking_a_malformed_id_is_not_found(client: httpx.AsyncClient, user_id: str) -> None:
    await users_admin.create_user(runtime(client), email="root@example.com", password=STRONG_PASSWORD, role="admin")
    token = (await client.post("/login", json=login("root@example.com", STRONG_PASSWORD))).json()["token"]
    response = await client.post(f"/user/{user_id}/unlock", headers=bearer(token))
    assert response.status_code == 404, response.text
    assert response.json()["code"] == "not_found"
