"""The MFA endpoints over HTTP, with pyotp as the authenticator app ."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import jwt
import pyotp
from sqlalchemy import select

from authgate.storage.models import RecoveryCode, TotpCredential
from authgate.storage.repositories import users as user_repo
from tests.support.app import runtime
from tests.support.http import STRONG_PASSWORD, bearer, register
from tests.support.metrics import metrics_text
from tests.support.mfa import Authenticator, MfaAccount, mfa_token


def claims(token: str) -> dict[str, Any]:
    decoded: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return decoded


async def test_setup_returns_secret_otpauth_url_and_qr_code(client: httpx.AsyncClient) -> None:
    token = (await register(client)).json()["accessToken"]
    response = await client.post("/api/auth/mfa/setup", headers=bearer(token))
    assert response.status_code == 200, response.text
    body = response.json()
    secret = body["secret"]
    assert len(secret) == 32 and pyotp.TOTP(secret).now().isdigit()
    assert body["otpauthUrl"].startswith("otpauth://totp/authgate:ada%40example.com?")
    assert f"secret={secret}" in body["otpauthUrl"] and "issuer=authgate" in body["otpauthUrl"]
    assert body["qrCodeUrl"].startswith("data:image/svg+xml")
    # The /authenticator/* names answer the same way, under every prefix.
    alias = await client.post("/auth/authenticator/setup", headers=bearer(token))
    assert alias.status_code == 200 and alias.json()["secret"] != secret


async def test_setup_needs_authentication(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/auth/mfa/setup")
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


async def test_enable_with_a_wrong_then_a_right_code(client: httpx.AsyncClient) -> None:
    reg = (await register(client)).json()
    headers = bearer(reg["accessToken"])
    secret = (await client.post("/api/auth/mfa/setup", headers=headers)).json()["secret"]
    app = Authenticator(secret)
    wrong = await client.post(
        "/api/auth/mfa/enable", headers=headers, json={"secret": secret, "verificationCode": app.wrong_code()}
    )
    assert wrong.status_code == 401
    assert wrong.json()["code"] == "invalid_mfa_code"
    assert (await client.get("/api/auth/user", headers=headers)).json()["mfaEnabled"] is False

    right = await client.post(
        "/api/auth/mfa/enable", headers=headers, json={"secret": secret, "verificationCode": await app.code()}
    )
    assert right.status_code == 200, right.text
    codes = right.json()["recoveryCodes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert right.json()["message"]
    user = await client.get("/api/auth/user", headers=headers)
    assert user.json()["mfaEnabled"] is True
    assert secret not in user.text


async def test_the_secret_is_not_shown_again_after_enabling(client: httpx.AsyncClient, account: MfaAccount) -> None:
    again = await client.post("/api/auth/mfa/setup", headers=account.headers)
    assert again.status_code == 409
    assert account.secret not in again.text
    enable_again = await client.post(
        "/api/auth/authenticator/verify",
        headers=account.headers,
        json={"secret": account.secret, "verificationCode": await account.app.code()},
    )
    assert enable_again.status_code == 409
    assert account.secret not in enable_again.text


async def test_enable_refuses_a_secret_that_setup_did_not_issue(client: httpx.AsyncClient) -> None:
    headers = bearer((await register(client)).json()["accessToken"])
    chosen = pyotp.random_base32()
    # No setup at all: a client cannot enrol a secret of its choosing.
    no_setup = await client.post(
        "/api/auth/mfa/enable", headers=headers, json={"secret": chosen, "verificationCode": pyotp.TOTP(chosen).now()}
    )
    assert no_setup.status_code == 400
    assert no_setup.json()["errors"][0]["field"] == "secret"
    # After setup, only the issued secret (the latest one) is accepted.
    first = (await client.post("/api/auth/mfa/setup", headers=headers)).json()["secret"]
    latest = (await client.post("/api/auth/mfa/setup", headers=headers)).json()["secret"]
    for secret in (chosen, first):
        response = await client.post(
            "/api/auth/mfa/enable",
            headers=headers,
            json={"secret": secret, "verificationCode": pyotp.TOTP(secret).now()},
        )
        assert response.status_code == 400, response.text
        assert response.json()["errors"][0]["field"] == "secret"
    ok = await client.post(
        "/api/auth/mfa/enable",
        headers=headers,
        json={"secret": latest.lower(), "verificationCode": await Authenticator(latest).code()},
    )
    assert ok.status_code == 200, ok.text


async def test_secrets_and_recovery_codes_are_not_stored_in_clear(
    client: httpx.AsyncClient, account: MfaAccount
) -> None:
    rt = runtime(client)
    async with rt.autocommit() as db:
        row = (await db.execute(select(TotpCredential))).scalar_one()
        hashes = list((await db.execute(select(RecoveryCode.code_hash))).scalars())
    assert row.secret is not None and account.secret not in row.secret and row.pending_secret is None
    assert rt.box.open(row.secret, context=account.user_id) == account.secret
    assert len(hashes) == 10
    plain = {c.replace("-", "") for c in account.recovery_codes}
    assert not plain & set(hashes) and not set(account.recovery_codes) & set(hashes)


async def test_login_without_a_code_answers_mfa_required(client: httpx.AsyncClient, account: MfaAccount) -> None:
    response = await client.post("/api/auth/login", json=account.login_body())
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == "mfa_required"
    assert isinstance(body["mfaToken"], str) and len(body["mfaToken"]) >= 40
    assert set(body["mfaMethods"]) == {"totp", "recovery"}
    assert "accessToken" not in body and "token" not in body
    assert "set-cookie" not in response.headers


async def test_login_with_a_right_code(client: httpx.AsyncClient, account: MfaAccount) -> None:
    response = await client.post("/api/auth/login", json=account.login_body(mfaCode=await account.app.code()))
    assert response.status_code == 200, response.text
    token = response.json()["accessToken"]
    assert claims(token)["amr"] == ["pwd", "otp"]
    profile = await client.get("/api/auth/profile", headers=bearer(token))
    assert profile.status_code == 200
    assert profile.json()["mfaEnabled"] is True


async def test_login_with_a_wrong_code_is_refused_and_counted(client: httpx.AsyncClient, account: MfaAccount) -> None:
    response = await client.post("/api/auth/login", json=account.login_body(mfaCode=account.app.wrong_code()))
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_mfa_code"
    assert "accessToken" not in response.json()
    for junk in ("abc", "1234567", "     ", "\uff11\uff12\uff13\uff14\uff15\uff16"):
        bad = await client.post("/api/auth/login", json=account.login_body(mfaCode=junk))
        assert bad.status_code == 401, junk
        assert bad.json()["code"] in {"invalid_mfa_code", "mfa_required"}
    metrics = await metrics_text(client)
    assert 'authgate_logins_total{outcome="invalid_mfa_code"} 5.0' in metrics


async def test_a_wrong_password_with_a_right_code_is_still_refused(
    client: httpx.AsyncClient, account: MfaAccount
) -> None:
    response = await client.post(
        "/api/auth/login",
        json={"email": account.email, "password": "Wrong-Horse-42", "mfaCode": await account.app.code()},
    )
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"
    assert "mfaToken" not in response.json()


async def test_a_code_is_accepted_once(client: httpx.AsyncClient, account: MfaAccount) -> None:
    # The code that enabled MFA is spent already.
    enabling_code = str(account.app.totp.generate_otp(account.app.last_step or 0))
    replay = await client.post("/api/auth/login", json=account.login_body(mfaCode=enabling_code))
    assert replay.status_code == 401
    assert replay.json()["code"] == "invalid_mfa_code"
    code = await account.app.code()
    first = await client.post("/api/auth/login", json=account.login_body(mfaCode=code))
    assert first.status_code == 200, first.text
    second = await client.post("/api/auth/login", json=account.login_body(mfaCode=code))
    assert second.status_code == 401
    assert second.json()["code"] == "invalid_mfa_code"
    # Nor through the two-step flow.
    token = await mfa_token(client, account)
    third = await client.post("/api/auth/mfa/verify", json={"mfaToken": token, "code": code})
    assert third.status_code == 401
    assert third.json()["code"] == "invalid_mfa_code"


async def test_two_step_login(client: httpx.AsyncClient, account: MfaAccount) -> None:
    token = await mfa_token(client, account)
    wrong = await client.post("/api/auth/mfa/verify", json={"mfaToken": token, "code": account.app.wrong_code()})
    assert wrong.status_code == 401
    assert wrong.json()["code"] == "invalid_mfa_code"
    right = await client.post("/api/auth/mfa/verify", json={"mfaToken": token, "code": await account.app.code()})
    assert right.status_code == 200, right.text
    body = right.json()
    assert body["message"] and body["token"] == body["accessToken"] and body["tokenType"] == "Bearer"
    assert body["email"] == account.email and body["user"]["mfaEnabled"] is True
    assert claims(body["accessToken"])["amr"] == ["pwd", "otp"]
    assert right.cookies.get("accessToken") == body["accessToken"]
    assert (await client.get("/api/auth/profile", headers=bearer(body["accessToken"]))).status_code == 200
    # The mfaToken is single use.
    again = await client.post("/api/auth/mfa/verify", json={"mfaToken": token, "code": await account.app.code()})
    assert again.status_code == 401
    assert again.json()["code"] == "invalid_token"


async def test_two_step_login_without_cookies(client: httpx.AsyncClient, account: MfaAccount) -> None:
    token = await mfa_token(client, account)
    response = await client.post(
        "/api/auth/mfa/verify",
        json={"mfaToken": token, "code": account.recovery_codes[0], "options": {"setCookie": False}},
    )
    assert response.status_code == 200, response.text
    assert "set-cookie" not in response.headers


async def test_an_mfa_token_allows_five_tries(make_client: Any) -> None:
    """The token's own limit (the account's lockout, which five wrong codes also reach, is
    raised here: tests/abuse covers it)."""
    from tests.support.mfa import enrol

    async with make_client(lockout_threshold=20) as client:
        await _five_tries(client, await enrol(client))


async def _five_tries(client: httpx.AsyncClient, account: MfaAccount) -> None:
    token = await mfa_token(client, account)
    for _ in range(5):
        wrong = await client.post("/api/auth/mfa/verify", json={"mfaToken": token, "code": account.app.wrong_code()})
        assert wrong.json()["code"] == "invalid_mfa_code"
    right = await client.post("/api/auth/mfa/verify", json={"mfaToken": token, "code": await account.app.code()})
    assert right.status_code == 401
    assert right.json()["code"] == "invalid_token"
    # A new sign-in gets a fresh token with fresh tries.
    fresh = await mfa_token(client, account)
    ok = await client.post("/api/auth/mfa/verify", json={"mfaToken": fresh, "code": await account.app.code()})
    assert ok.status_code == 200, ok.text


async def test_an_mfa_token_expires(make_client: Any) -> None:
    from tests.support.mfa import enrol

    async with make_client(mfa_token_ttl_seconds=1) as client:
        account = await enrol(client)
        token = await mfa_token(client, account)
        await asyncio.sleep(1.2)
        late = await client.post("/api/auth/mfa/verify", json={"mfaToken": token, "code": await account.app.code()})
        assert late.status_code == 401
        assert late.json()["code"] == "invalid_token"


async def test_an_mfa_token_is_never_an_access_token(client: httpx.AsyncClient, account: MfaAccount) -> None:
    token = await mfa_token(client, account)
    for method, path in (("GET", "/api/auth/profile"), ("GET", "/api/auth/user"), ("POST", "/api/auth/mfa/setup")):
        response = await client.request(method, path, headers=bearer(token))
        assert response.status_code == 401, path
        assert response.json()["code"] == "invalid_token"
    # Nor the other way round: an access token, or a made-up one, is not an mfaToken.
    for fake in (account.token, "x" * 43, token[:-1] + ("A" if token[-1] != "A" else "B")):
        response = await client.post("/api/auth/mfa/verify", json={"mfaToken": fake, "code": "123456"})
        assert response.status_code == 401
        assert response.json()["code"] == "invalid_token"
    # The real token still works afterwards: attacks on other tokens cost it no tries.
    ok = await client.post("/api/auth/mfa/verify", json={"mfaToken": token, "code": await account.app.code()})
    assert ok.status_code == 200, ok.text


async def test_each_recovery_code_works_once(client: httpx.AsyncClient, account: MfaAccount) -> None:
    for index, code in enumerate(account.recovery_codes):
        typed = code.upper().replace("-", " ") if index % 2 else code
        if index % 3 == 0:
            response = await client.post("/api/auth/login", json=account.login_body(mfaCode=typed))
        else:
            token = await mfa_token(client, account)
            response = await client.post("/api/auth/mfa/verify", json={"mfaToken": token, "code": typed})
        assert response.status_code == 200, (index, response.text)
        assert claims(response.json()["accessToken"])["amr"] == ["pwd", "rec"]
        reuse = await client.post("/api/auth/login", json=account.login_body(mfaCode=code))
        assert reuse.status_code == 401
        assert reuse.json()["code"] == "invalid_mfa_code"
    # With every recovery code spent, the authenticator app still works.
    login = await client.post("/api/auth/login", json=account.login_body())
    assert login.json()["mfaMethods"] == ["totp"]
    ok = await client.post("/api/auth/login", json=account.login_body(mfaCode=await account.app.code()))
    assert ok.status_code == 200


async def test_recovery_codes_are_per_user(client: httpx.AsyncClient, account: MfaAccount) -> None:
    from tests.support.mfa import enrol

    other = await enrol(client, email="bob@example.com")
    response = await client.post("/api/auth/login", json=other.login_body(mfaCode=account.recovery_codes[0]))
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_mfa_code"


async def test_disable_needs_a_current_code(client: httpx.AsyncClient, account: MfaAccount) -> None:
    wrong = await client.post(
        "/api/auth/mfa/disable", headers=account.headers, json={"verificationCode": account.app.wrong_code()}
    )
    assert wrong.status_code == 401
    assert wrong.json()["code"] == "invalid_mfa_code"
    missing = await client.post("/api/auth/mfa/disable", headers=account.headers, json={})
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["field"] == "verificationCode"
    anonymous = await client.post("/api/auth/mfa/disable", json={"verificationCode": await account.app.code()})
    assert anonymous.status_code == 401

    ok = await client.post(
        "/api/auth/mfa/disable", headers=account.headers, json={"verificationCode": await account.app.code()}
    )
    assert ok.status_code == 200, ok.text
    assert (await client.get("/api/auth/user", headers=account.headers)).json()["mfaEnabled"] is False
    login = await client.post("/api/auth/login", json=account.login_body())
    assert login.status_code == 200, login.text
    assert claims(login.json()["accessToken"])["amr"] == ["pwd"]
    async with runtime(client).autocommit() as db:
        assert (await db.execute(select(TotpCredential))).first() is None
        assert (await db.execute(select(RecoveryCode))).first() is None
    again = await client.post("/api/auth/mfa/disable", headers=account.headers, json={"verificationCode": "123456"})
    assert again.status_code == 409


async def test_remove_with_a_recovery_code_and_enrol_again(client: httpx.AsyncClient, account: MfaAccount) -> None:
    removed = await client.post(
        "/api/auth/mfa/remove", headers=account.headers, json={"verificationCode": account.recovery_codes[3]}
    )
    assert removed.status_code == 200, removed.text
    # Setting up again gives a new secret and new codes; the old ones are void.
    secret = (await client.post("/api/auth/mfa/setup", headers=account.headers)).json()["secret"]
    assert secret != account.secret
    enable = await client.post(
        "/api/auth/mfa/enable",
        headers=account.headers,
        json={"secret": secret, "verificationCode": await Authenticator(secret).code()},
    )
    assert enable.status_code == 200, enable.text
    old = await client.post("/api/auth/login", json=account.login_body(mfaCode=account.recovery_codes[4]))
    assert old.status_code == 401
    new = await client.post("/api/auth/login", json=account.login_body(mfaCode=enable.json()["recoveryCodes"][0]))
    assert new.status_code == 200


async def test_a_code_given_to_a_user_without_mfa_is_ignored(client: httpx.AsyncClient) -> None:
    await register(client)
    response = await client.post(
        "/api/auth/login", json={"email": "ada@example.com", "password": STRONG_PASSWORD, "mfaCode": "123456"}
    )
    assert response.status_code == 200
    assert claims(response.json()["accessToken"])["amr"] == ["pwd"]


async def test_a_disabled_account_cannot_finish_the_second_step(client: httpx.AsyncClient, account: MfaAccount) -> None:
    token = await mfa_token(client, account)
    rt = runtime(client)
    async with rt.db.begin() as db:
        user = await user_repo.get(db, user_id=account.user_id)
        assert user is not None
        await user_repo.update_fields(db, user=user, fields={"disabled": True})
    response = await client.post("/api/auth/mfa/verify", json={"mfaToken": token, "code": await account.app.code()})
    assert response.status_code == 403
    assert response.json()["code"] == "account_disabled"


async def test_bad_bodies_are_400_problems(client: httpx.AsyncClient, account: MfaAccount) -> None:
    empty = await client.post("/api/auth/mfa/verify", json={})
    assert empty.status_code == 400
    assert {e["field"] for e in empty.json()["errors"]} == {"mfaToken"}
    no_code = await client.post("/api/auth/mfa/verify", json={"mfaToken": "t"})
    assert no_code.status_code == 400 and no_code.json()["errors"] == [{"field": "code", "message": "Enter the code."}]
    typed = await client.post("/api/auth/mfa/verify", json={"mfaToken": "t", "code": 123456})
    assert typed.status_code == 400
    enable = await client.post("/api/auth/mfa/enable", headers=account.headers, json={"secret": 1})
    assert enable.status_code == 400
    assert enable.json()["errors"][0]["field"] == "secret"


async def test_a_changed_encryption_key_fails_closed(make_client: Any) -> None:
    from tests.support.mfa import enrol

    async with make_client() as client:
        account = await enrol(client)
    async with make_client(encryption_key="another-key-" + "k" * 32) as client:
        totp_login = await client.post("/api/auth/login", json=account.login_body(mfaCode=await account.app.code()))
        assert totp_login.status_code == 401
        assert totp_login.json()["code"] == "invalid_mfa_code"
        recovery = await client.post("/api/auth/login", json=account.login_body(mfaCode=account.recovery_codes[0]))
        assert recovery.status_code == 200, recovery.text
