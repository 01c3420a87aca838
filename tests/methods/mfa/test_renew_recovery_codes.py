"""`POST /mfa/recovery-codes`: ten new recovery codes in place of the earlier ones, given a
current TOTP code or an unused recovery code, in one transaction; a wrong code is counted
toward the lockout, and one code renews once however many requests carry it."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx

from tests.support.app import ClientFactory, sql
from tests.support.http import bearer, register
from tests.support.limits import assert_limited
from tests.support.mfa import MfaAccount, enrol

PATH = "/api/auth/mfa/recovery-codes"


def assert_problem(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["code"] == code, response.text


async def signs_in_with(client: httpx.AsyncClient, account: MfaAccount, code: str) -> bool:
    response = await client.post("/api/auth/login", json=account.login_body(mfaCode=code))
    client.cookies.clear()
    if response.status_code == 200:
        return True
    assert_problem(response, 401, "invalid_mfa_code")
    return False


async def renewals(client: httpx.AsyncClient, user_id: str) -> list[tuple[str, str]]:
    rows = await sql(
        client, "SELECT user_id, actor_id FROM audit_log WHERE type = 'mfa.recovery_codes_renewed' AND user_id = :u",
        u=user_id,
    )  # fmt: skip
    return [(row[0], row[1]) for row in rows]


async def unused_codes(client: httpx.AsyncClient, user_id: str) -> int:
    rows = await sql(
        client, "SELECT COUNT(*) FROM mfa_recovery_codes WHERE user_id = :u AND used_at IS NULL", u=user_id
    )
    return int(rows[0][0])


async def test_a_totp_code_renews_them_and_the_old_ones_are_void(
    client: httpx.AsyncClient, account: MfaAccount
) -> None:
    old = account.recovery_codes
    assert await signs_in_with(client, account, old[0])  # one used before the renewal
    response = await client.post(PATH, headers=account.headers, json={"code": await account.app.code()})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"message", "recoveryCodes"}
    new = body["recoveryCodes"]
    assert len(new) == len(set(new)) == 10 and not set(new) & set(old)
    assert await unused_codes(client, account.user_id) == 10

    for code in old[1:3]:
        assert not await signs_in_with(client, account, code)
    assert await signs_in_with(client, account, new[0])
    assert not await signs_in_with(client, account, new[0])  # once
    assert await signs_in_with(client, account, new[1].upper().replace("-", " "))  # typed as users type them
    assert await renewals(client, account.user_id) == [(account.user_id, account.user_id)]
    # MFA stays on, with the same authenticator app.
    me = (await client.get("/api/auth/user", headers=account.headers)).json()
    assert me["mfaEnabled"] is True
    assert await signs_in_with(client, account, await account.app.code())


async def test_an_unused_recovery_code_renews_them_and_is_used_up(
    client: httpx.AsyncClient, account: MfaAccount
) -> None:
    spent = account.recovery_codes[0]
    for name in ("verificationCode", "mfaCode"):  # every name a code goes by
        response = await client.post(PATH, headers=account.headers, json={name: spent})
        if name == "verificationCode":
            assert response.status_code == 200, response.text
            fresh = response.json()["recoveryCodes"]
        else:  # the same code again: used up with the renewal
            assert_problem(response, 401, "invalid_mfa_code")
    again = await client.post(PATH, headers=account.headers, json={"mfaCode": fresh[0]})
    assert again.status_code == 200, again.text
    assert not await signs_in_with(client, account, fresh[1])  # void: renewed again since
    assert await signs_in_with(client, account, again.json()["recoveryCodes"][0])
    assert len(await renewals(client, account.user_id)) == 2


async def test_refusals(client: httpx.AsyncClient, account: MfaAccount) -> None:
    plain = bearer((await register(client, "bob@example.com")).json()["token"])
    client.cookies.clear()
    assert_problem(await client.post(PATH, headers=plain, json={"code": "123456"}), 409, "conflict")
    assert_problem(await client.post(PATH, json={"code": "123456"}), 401, "invalid_token")
    missing = await client.post(PATH, headers=account.headers, json={})
    assert_problem(missing, 400, "validation_failed")
    assert missing.json()["errors"][0]["field"] == "code"
    # The cookie instead of the header: the CSRF check of every state-changing request.
    cookie = [("Cookie", f"accessToken={account.token}")]
    foreign = await client.post(
        PATH, headers=[*cookie, ("Origin", "https://evil.example")], json={"code": account.recovery_codes[0]}
    )
    assert_problem(foreign, 403, "forbidden")
    own = await client.post(
        PATH, headers=[*cookie, ("Origin", "http://testserver")], json={"code": account.recovery_codes[0]}
    )
    assert own.status_code == 200, own.text
    assert await renewals(client, account.user_id) == [(account.user_id, account.user_id)]


async def test_a_wrong_code_is_counted_toward_the_lockout(client: httpx.AsyncClient, account: MfaAccount) -> None:
    for wrong in (account.app.wrong_code(), "aaaa-bbbb-cccc-dddd", account.app.wrong_code(), "nope", "2" * 6):
        assert_problem(await client.post(PATH, headers=account.headers, json={"code": wrong}), 401, "invalid_mfa_code")
    failures = await sql(
        client, "SELECT COUNT(*) FROM audit_log WHERE type = 'user.login_failed' AND user_id = :u", u=account.user_id
    )
    assert failures[0][0] == 5
    locked = await client.post(PATH, headers=account.headers, json={"code": account.recovery_codes[0]})
    assert_problem(locked, 429, "account_locked")  # the fifth failure locked the account: the right code waits too
    assert locked.headers["Retry-After"]
    assert await renewals(client, account.user_id) == []
    assert await unused_codes(client, account.user_id) == 10  # nothing changed


async def test_one_recovery_code_renews_once_under_concurrency(make_client: ClientFactory) -> None:
    # The lockout is raised here: the losers' failures would otherwise lock the account first.
    async with make_client(lockout_threshold=100) as client:
        account = await enrol(client)
        code = account.recovery_codes[0]
        responses = await asyncio.gather(
            *(client.post(PATH, headers=account.headers, json={"code": code}) for _ in range(8))
        )
        outcomes = Counter(r.status_code if r.status_code == 200 else r.json()["code"] for r in responses)
        assert outcomes == Counter({200: 1, "invalid_mfa_code": 7}), outcomes
        [winner] = [r.json()["recoveryCodes"] for r in responses if r.status_code == 200]
        assert await unused_codes(client, account.user_id) == 10
        assert len(await renewals(client, account.user_id)) == 1
        assert await signs_in_with(client, account, winner[0])
        assert not await signs_in_with(client, account, account.recovery_codes[1])


async def test_the_mfa_rate_rule_holds(make_client: ClientFactory) -> None:
    async with make_client(rate_limits="mfa.ip=2/minute") as client:
        account = await enrol(client)
        for _ in range(2):
            assert (await client.post(PATH, headers=account.headers, json={"code": "nope"})).status_code == 401
        assert_limited(await client.post(PATH, headers=account.headers, json={"code": "nope"}), limit=2)
