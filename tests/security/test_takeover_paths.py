"""The ways into an account that the sign-in core closes, each attacked over HTTP on SQLite
and PostgreSQL: pre-registration takeover, refresh-token replay, factor re-pointing,
factors that are not independent, and sensitive changes made with a stolen access token."""

from __future__ import annotations

import httpx

from tests.support.app import sql
from tests.support.http import STRONG_PASSWORD, bearer, register
from tests.support.mail import Mailbox, code_in, link_in, mail_code
from tests.support.mfa import enrol
from tests.support.sms import PHONE, SmsReceiver, verified_phone_user

BOB = "bob@example.com"
ATTACKER_PASSWORD = "Attacker-Pass-77"


async def _squat(client: httpx.AsyncClient) -> dict[str, str]:
    """The attacker registers Bob's address first, with a password of their own."""
    body = (await register(client, email=BOB, password=ATTACKER_PASSWORD)).json()
    return {"access": body["accessToken"], "refresh": body["refreshToken"]}


async def _attacker_is_out(client: httpx.AsyncClient, squatted: dict[str, str]) -> None:
    login = await client.post("/login", json={"email": BOB, "password": ATTACKER_PASSWORD})
    assert login.status_code == 401 and login.json()["code"] == "invalid_credentials"
    assert (await client.get("/user", headers=bearer(squatted["access"]))).status_code == 401
    assert (await client.post("/refresh", json={"refreshToken": squatted["refresh"]})).status_code == 401


async def test_pre_registration_takeover_by_magic_link(mclient: httpx.AsyncClient, mailbox: Mailbox) -> None:
    squatted = await _squat(mclient)
    await mclient.post("/login/magic", json={"email": BOB})
    link = link_in(await mailbox.wait_for(BOB), "/login/magic/")
    owner = await mclient.get(link)
    assert owner.status_code == 200, owner.text
    assert owner.json()["user"]["emailVerified"] is True
    await _attacker_is_out(mclient, squatted)
    assert (await mclient.get("/user", headers=bearer(owner.json()["token"]))).status_code == 200


async def test_pre_registration_takeover_by_email_code(mclient: httpx.AsyncClient, mailbox: Mailbox) -> None:
    squatted = await _squat(mclient)
    await mclient.post("/otp/send", json={"channel": "email", "email": BOB})
    code = mail_code(await mailbox.wait_for(BOB))
    owner = await mclient.post("/otp/verify", json={"channel": "email", "email": BOB, "code": code})
    assert owner.status_code == 200, owner.text
    await _attacker_is_out(mclient, squatted)


async def test_pre_registration_takeover_with_a_planted_second_factor(
    mclient: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    """The squatter turned TOTP on: it must not lock the owner out, nor outlive the claim."""
    account = await enrol(mclient, email=BOB)
    await mclient.post("/login/magic", json={"email": BOB})
    owner = await mclient.get(link_in(await mailbox.wait_for(BOB), "/login/magic/"))
    assert owner.status_code == 200, owner.text
    assert owner.json()["user"]["mfaEnabled"] is False
    login = await mclient.post("/login", json={"email": BOB, "password": account.password})
    assert login.status_code == 401 and login.json()["code"] == "invalid_credentials"


async def test_only_the_first_proof_claims(mclient: httpx.AsyncClient, mailbox: Mailbox) -> None:
    """Once the address is verified, a magic link is just a sign-in: the owner's password and
    other sessions stay."""
    first = (await register(mclient, email=BOB)).json()
    await mclient.post("/login/magic", json={"email": BOB})
    await mclient.get(link_in(await mailbox.wait_for(BOB, 1), "/login/magic/"))  # claims: first proof
    again = await mclient.post("/login", json={"email": BOB, "password": STRONG_PASSWORD})
    assert again.status_code == 401  # the password set before the proof is gone
    assert (await mclient.get("/user", headers=bearer(first["token"]))).status_code == 401
    await mclient.post("/password/forgot", json={"email": BOB})
    reset = link_in(await mailbox.wait_for(BOB, 2), "/password/reset/")
    assert (await mclient.post(reset, json={"password": "Owner-Pass-2024"})).status_code == 200
    session = (await mclient.post("/login", json={"email": BOB, "password": "Owner-Pass-2024"})).json()
    await mclient.post("/login/magic", json={"email": BOB})
    assert (await mclient.get(link_in(await mailbox.wait_for(BOB, 3), "/login/magic/"))).status_code == 200
    assert (await mclient.get("/user", headers=bearer(session["token"]))).status_code == 200
    assert (await mclient.post("/login", json={"email": BOB, "password": "Owner-Pass-2024"})).status_code == 200


async def test_register_passes_the_gate_verification_required(messaging_client: object, mailbox: Mailbox) -> None:
    async with messaging_client(require_email_verification=True) as client:  # type: ignore[operator]
        response = await client.post("/register", json={"email": BOB, "password": STRONG_PASSWORD})
        assert response.status_code == 201, response.text
        body = response.json()
        assert "token" not in body and "refreshToken" not in body and "accessToken" not in response.cookies
        assert body["user"]["emailVerified"] is False
        login = await client.post("/login", json={"email": BOB, "password": STRONG_PASSWORD})
        assert login.status_code == 403 and login.json()["code"] == "email_not_verified"
        verify = link_in(await mailbox.wait_for(BOB), "/email/verify/")
        assert (await client.get(verify)).status_code == 200
        assert (await client.post("/login", json={"email": BOB, "password": STRONG_PASSWORD})).status_code == 200


async def test_magic_link_does_not_skip_an_authenticator(mclient: httpx.AsyncClient, mailbox: Mailbox) -> None:
    account = await enrol(mclient, email=BOB)
    await mclient.post("/email/verify", json={"email": BOB})
    assert (await mclient.get(link_in(await mailbox.wait_for(BOB, 1), "/email/verify/"))).status_code == 200
    await mclient.post("/login/magic", json={"email": BOB})
    step1 = await mclient.get(link_in(await mailbox.wait_for(BOB, 2), "/login/magic/"))
    assert step1.status_code == 401 and step1.json()["code"] == "mfa_required"
    assert step1.json()["mfaMethods"] == ["totp", "recovery"]
    token = step1.json()["mfaToken"]
    wrong_method = await mclient.post("/mfa/verify", json={"mfaToken": token, "code": "123456", "method": "code"})
    assert wrong_method.status_code == 400
    done = await mclient.post(
        "/mfa/verify", json={"mfaToken": token, "code": await account.app.code(), "method": "totp"}
    )
    assert done.status_code == 200, done.text


async def test_factor_re_pointing_sms_factor_needs_a_current_factor(
    mclient: httpx.AsyncClient, sms: SmsReceiver
) -> None:
    token = await verified_phone_user(mclient, sms)
    auth = bearer(token)
    await mclient.post("/otp/send", json={"channel": "sms", "purpose": "mfa"}, headers=auth)
    enrol_code = code_in(await sms.wait_for(PHONE, 2))
    on = await mclient.post("/otp/verify", json={"channel": "sms", "code": enrol_code, "purpose": "mfa"}, headers=auth)
    assert on.status_code == 200, on.text

    thief = await mclient.put("/user", headers=auth, json={"phone": "+14155550199"})
    assert thief.status_code == 400 and thief.json()["errors"][0]["field"] == "mfaCode"
    guess = await mclient.put("/user", headers=auth, json={"phone": "+14155550199", "mfaCode": "000000"})
    assert guess.status_code == 401 and guess.json()["code"] == "invalid_mfa_code"
    assert (await mclient.get("/user", headers=auth)).json()["phone"] == PHONE

    await mclient.post("/otp/send", json={"channel": "sms", "purpose": "mfa"}, headers=auth)
    current = code_in(await sms.wait_for(PHONE, 3))
    moved = await mclient.put("/user", headers=auth, json={"phone": "+14155550199", "mfaCode": current})
    assert moved.status_code == 200, moved.text
    assert moved.json()["phone"] == "+14155550199" and moved.json()["phoneVerified"] is False


async def test_sensitive_changes_need_a_recent_sign_in(messaging_client: object) -> None:
    async with messaging_client(reauth_max_age_seconds=0) as client:  # type: ignore[operator]
        auth = bearer((await register(client)).json()["token"])
        setup = await client.post("/mfa/setup", headers=auth)
        assert setup.status_code == 401 and setup.json()["code"] == "reauthentication_required"
        wrong = await client.post("/mfa/setup", headers=auth, json={"currentPassword": "Not-The-Password-1"})
        assert wrong.status_code == 401 and wrong.json()["code"] == "invalid_credentials"
        ok = await client.post("/mfa/setup", headers=auth, json={"currentPassword": STRONG_PASSWORD})
        assert ok.status_code == 200
        enable = await client.post(
            "/mfa/enable", headers=auth, json={"secret": ok.json()["secret"], "verificationCode": "123456"}
        )
        assert enable.status_code == 401 and enable.json()["code"] == "reauthentication_required"
        phone = await client.put("/user", headers=auth, json={"phone": "+14155550123"})
        assert phone.status_code == 401 and phone.json()["code"] == "reauthentication_required"
        phone = await client.put(
            "/user", headers=auth, json={"phone": "+14155550123", "currentPassword": STRONG_PASSWORD}
        )
        assert phone.status_code == 200, phone.text
        code_factor = await client.post(
            "/otp/verify", headers=auth, json={"channel": "sms", "code": "123456", "purpose": "mfa"}
        )
        assert code_factor.status_code == 401 and code_factor.json()["code"] == "reauthentication_required"
        name = await client.put("/user", headers=auth, json={"name": "Still Ada"})
        assert name.status_code == 200  # not sensitive
        failures = await sql(client, "SELECT count(*) FROM audit_log WHERE type = 'user.login_failed'")
        assert failures == [(1,)]  # the wrong current password was counted


async def test_session_has_an_absolute_end(make_client: object) -> None:
    async with make_client(session_max_seconds=120) as client:  # type: ignore[operator]
        body = (await register(client)).json()
        sessions = (await client.get("/sessions", headers=bearer(body["token"]))).json()
        created, ends = sessions[0]["createdAt"], sessions[0]["expiresAt"]
        refreshed = (await client.post("/refresh", json={"refreshToken": body["refreshToken"]})).json()
        after = (await client.get("/sessions", headers=bearer(refreshed["token"]))).json()[0]["expiresAt"]
        rows = await sql(client, "SELECT created_at, ends_at FROM sessions")
    from datetime import datetime

    start = datetime.fromisoformat(created.replace("Z", "+00:00"))
    assert (datetime.fromisoformat(ends.replace("Z", "+00:00")) - start).total_seconds() <= 120
    assert (datetime.fromisoformat(after.replace("Z", "+00:00")) - start).total_seconds() <= 120
    assert len(rows) == 1


async def test_pre_registration_takeover_by_password_reset(mclient: httpx.AsyncClient, mailbox: Mailbox) -> None:
    """A reset is the owner's first proof of the address too: the squatter's TOTP goes with
    the squatter's password and sessions."""
    account = await enrol(mclient, email=BOB)
    await mclient.post("/password/forgot", json={"email": BOB})
    reset = link_in(await mailbox.wait_for(BOB), "/password/reset/")
    assert (await mclient.post(reset, json={"password": "Owner-Pass-2024"})).status_code == 200
    owner = await mclient.post("/login", json={"email": BOB, "password": "Owner-Pass-2024"})
    assert owner.status_code == 200, owner.text  # no second step: the planted factor is gone
    assert (await mclient.get("/user", headers=account.headers)).status_code == 401


async def test_a_current_factor_re_authenticates_too(messaging_client: object) -> None:
    """Without a recent sign-in, a code of a current second factor is as good as the password."""
    from tests.support.mfa import Authenticator

    async with messaging_client(reauth_max_age_seconds=0) as client:  # type: ignore[operator]
        auth = bearer((await register(client)).json()["token"])
        proof = {"currentPassword": STRONG_PASSWORD}
        secret = (await client.post("/mfa/setup", headers=auth, json=proof)).json()["secret"]
        app = Authenticator(secret)
        enabled = await client.post(
            "/mfa/enable", headers=auth, json={"secret": secret, "verificationCode": await app.code(), **proof}
        )
        assert enabled.status_code == 200, enabled.text
        guess = await client.put("/user", headers=auth, json={"phone": "+14155550123", "mfaCode": app.wrong_code()})
        assert guess.status_code == 401 and guess.json()["code"] == "invalid_mfa_code"
        moved = await client.put("/user", headers=auth, json={"phone": "+14155550123", "mfaCode": await app.code()})
        assert moved.status_code == 200, moved.text
        recovery = enabled.json()["recoveryCodes"][0]
        again = await client.put("/user", headers=auth, json={"phone": "+14155550124", "mfaCode": recovery})
        assert again.status_code == 200, again.text
        replayed = await client.put("/user", headers=auth, json={"phone": "+14155550125", "mfaCode": recovery})
        assert replayed.status_code == 401  # a recovery code works once


async def test_factors_are_independent_one_method_cannot_be_both(
    mclient: httpx.AsyncClient, sms: SmsReceiver, mailbox: Mailbox
) -> None:
    """A sign-in by SMS code cannot be completed by the code factor on email: a different
    channel, but the same method twice."""
    auth = bearer(await verified_phone_user(mclient, sms))
    assert (
        await mclient.post("/otp/send", json={"channel": "email", "purpose": "mfa"}, headers=auth)
    ).status_code == 202
    enrol_code = mail_code(await mailbox.wait_for("ada@example.com"))
    on = await mclient.post(
        "/otp/verify", headers=auth, json={"channel": "email", "code": enrol_code, "purpose": "mfa"}
    )
    assert on.status_code == 200, on.text
    await mclient.post("/otp/send", json={"channel": "sms", "phone": PHONE})
    login_code = code_in(await sms.wait_for(PHONE, 2))
    response = await mclient.post("/otp/verify", json={"channel": "sms", "phone": PHONE, "code": login_code})
    assert response.status_code == 403 and response.json()["code"] == "forbidden"
    password = await mclient.post("/login", json={"email": "ada@example.com", "password": STRONG_PASSWORD})
    assert password.status_code == 401 and password.json()["mfaMethods"] == ["code"]
