"""One-time codes by SMS (to a real HTTP receiver) and email (to a real SMTP server):
passwordless sign-in, verification, the second factor; 10 minutes, 5 tries, single use,
stored hashed, exact under parallel requests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select

from authgate.storage.models import OneTimeSecret, OutboxMessage
from tests.support.app import runtime
from tests.support.delivery import MessagingClientFactory, expire_everything, settled_outbox
from tests.support.http import STRONG_PASSWORD, bearer, register
from tests.support.mail import Mailbox, code_in, mail_code
from tests.support.sms import PHONE, SmsReceiver, verified_phone_user

ACCEPTED = {"message": "If the address can receive codes, a code is on its way."}


@pytest.fixture
async def mclient(messaging_client: MessagingClientFactory) -> AsyncIterator[httpx.AsyncClient]:
    """The code's own limits alone: the account's lockout, which the wrong guesses here would
    also reach, is raised (tests/abuse covers it)."""
    async with messaging_client(lockout_threshold=100) as client:
        yield client


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


async def test_sms_login(mclient: httpx.AsyncClient, sms: SmsReceiver) -> None:
    await verified_phone_user(mclient, sms)
    sent = await mclient.post("/otp/send", json={"channel": "sms", "phone": PHONE})
    assert sent.status_code == 202 and sent.json() == ACCEPTED
    text = await sms.wait_for(PHONE, 2)
    assert "to sign in" in text and "10 minutes" in text
    answer = await mclient.post("/otp/verify", json={"channel": "sms", "phone": PHONE, "code": code_in(text)})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["message"] == "Login successful" and body["user"]["phone"] == PHONE
    assert answer.cookies.get("accessToken") == body["token"]
    claims = runtime(mclient).codec.decode_known(body["token"], purpose="access")
    assert claims["amr"] == ["sms"]
    again = await mclient.post("/otp/verify", json={"channel": "sms", "phone": PHONE, "code": code_in(text)})
    assert again.status_code == 401 and again.json()["code"] == "invalid_credentials"


async def test_email_login_verifies_the_address(mclient: httpx.AsyncClient, mailbox: Mailbox) -> None:
    await register(mclient)
    await mclient.post("/otp/send", json={"channel": "email", "email": "ada@example.com", "purpose": "login"})
    mail = await mailbox.wait_for("ada@example.com")
    assert mail["Subject"] == "Your one-time code"
    answer = await mclient.post(
        "/otp/verify",
        json={"channel": "email", "email": "ADA@example.com", "code": mail_code(mail), "options": {"setCookie": False}},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["user"]["emailVerified"] is True
    assert "accessToken" not in answer.cookies


async def test_sms_login_needs_a_verified_phone(mclient: httpx.AsyncClient, sms: SmsReceiver) -> None:
    await register(mclient, phone=PHONE)
    sent = await mclient.post("/otp/send", json={"channel": "sms", "phone": PHONE})
    assert sent.status_code == 202 and sent.json() == ACCEPTED
    assert [(r.channel, r.status) for r in await settled_outbox(mclient)] == [("sms", "suppressed")]
    assert sms.to(PHONE) == []


async def test_same_answer_for_unknown_destinations(mclient: httpx.AsyncClient, mailbox: Mailbox) -> None:
    await register(mclient)
    known = await mclient.post("/otp/send", json={"channel": "email", "email": "ada@example.com"})
    unknown = await mclient.post("/otp/send", json={"channel": "email", "email": "ghost@example.com"})
    nobody = await mclient.post("/otp/send", json={"channel": "sms", "phone": "+14155550199"})
    assert known.status_code == unknown.status_code == nobody.status_code == 202
    assert known.content == unknown.content == nobody.content
    await mailbox.wait_for("ada@example.com")


async def test_five_tries_then_nothing(mclient: httpx.AsyncClient, mailbox: Mailbox) -> None:
    await register(mclient)
    await mclient.post("/otp/send", json={"channel": "email", "email": "ada@example.com"})
    code = mail_code(await mailbox.wait_for("ada@example.com"))
    attempt = {"channel": "email", "email": "ada@example.com"}
    for _ in range(5):
        bad = await mclient.post("/otp/verify", json={**attempt, "code": wrong(code)})
        assert bad.status_code == 401
    late = await mclient.post("/otp/verify", json={**attempt, "code": code})
    assert late.status_code == 401 and late.json()["code"] == "invalid_credentials"


async def test_four_wrong_tries_then_the_right_code(mclient: httpx.AsyncClient, mailbox: Mailbox) -> None:
    await register(mclient)
    await mclient.post("/otp/send", json={"channel": "email", "email": "ada@example.com"})
    code = mail_code(await mailbox.wait_for("ada@example.com"))
    attempt = {"channel": "email", "email": "ada@example.com"}
    for _ in range(4):
        assert (await mclient.post("/otp/verify", json={**attempt, "code": wrong(code)})).status_code == 401
    assert (await mclient.post("/otp/verify", json={**attempt, "code": code})).status_code == 200


async def test_parallel_guesses_are_counted_exactly(mclient: httpx.AsyncClient, mailbox: Mailbox) -> None:
    await register(mclient)
    await mclient.post("/otp/send", json={"channel": "email", "email": "ada@example.com"})
    code = mail_code(await mailbox.wait_for("ada@example.com"))
    attempt = {"channel": "email", "email": "ada@example.com"}
    guesses = [f"{(int(code) + i) % 1_000_000:06d}" for i in range(1, 21)]
    answers = await asyncio.gather(*(mclient.post("/otp/verify", json={**attempt, "code": g}) for g in guesses))
    assert all(a.status_code == 401 for a in answers)
    async with runtime(mclient).db() as db:
        row = (await db.execute(select(OneTimeSecret).where(OneTimeSecret.purpose.like("code%")))).scalar_one()
    assert row.attempts == 5  # 20 parallel guesses, exactly 5 compared
    assert (await mclient.post("/otp/verify", json={**attempt, "code": code})).status_code == 401


async def test_ten_concurrent_uses_of_the_right_code_one_wins(mclient: httpx.AsyncClient, mailbox: Mailbox) -> None:
    await register(mclient)
    await mclient.post("/otp/send", json={"channel": "email", "email": "ada@example.com"})
    code = mail_code(await mailbox.wait_for("ada@example.com"))
    body = {"channel": "email", "email": "ada@example.com", "code": code}
    answers = await asyncio.gather(*(mclient.post("/otp/verify", json=body) for _ in range(10)))
    assert sorted(a.status_code for a in answers) == [200] + [401] * 9


async def test_expired_code_is_refused(mclient: httpx.AsyncClient, mailbox: Mailbox) -> None:
    await register(mclient)
    await mclient.post("/otp/send", json={"channel": "email", "email": "ada@example.com"})
    code = mail_code(await mailbox.wait_for("ada@example.com"))
    await expire_everything(mclient)
    response = await mclient.post("/otp/verify", json={"channel": "email", "email": "ada@example.com", "code": code})
    assert response.status_code == 401


async def test_a_new_code_voids_the_previous_one(mclient: httpx.AsyncClient, mailbox: Mailbox) -> None:
    await register(mclient)
    await mclient.post("/otp/send", json={"channel": "email", "email": "ada@example.com"})
    first = mail_code(await mailbox.wait_for("ada@example.com", 1))
    await mclient.post("/otp/send", json={"channel": "email", "email": "ada@example.com"})
    second = mail_code(await mailbox.wait_for("ada@example.com", 2))
    attempt = {"channel": "email", "email": "ada@example.com"}
    if first != second:
        assert (await mclient.post("/otp/verify", json={**attempt, "code": first})).status_code == 401
    assert (await mclient.post("/otp/verify", json={**attempt, "code": second})).status_code == 200


async def test_codes_are_stored_hashed_and_bodies_sealed(mclient: httpx.AsyncClient, mailbox: Mailbox) -> None:
    await register(mclient)
    await mclient.post("/otp/send", json={"channel": "email", "email": "ada@example.com"})
    code = mail_code(await mailbox.wait_for("ada@example.com"))
    async with runtime(mclient).db() as db:
        row = (await db.execute(select(OneTimeSecret).where(OneTimeSecret.purpose.like("code%")))).scalar_one()
        outbox = list((await db.execute(select(OutboxMessage))).scalars())
    assert code not in row.digest and len(row.digest) >= 40
    stored = " ".join(str(v) for v in vars(row).values())
    assert code not in stored
    assert all(m.payload is None for m in outbox if m.status == "sent")  # erased once sent


async def test_email_verification_by_code(mclient: httpx.AsyncClient, mailbox: Mailbox) -> None:
    await register(mclient)
    await mclient.post("/otp/send", json={"channel": "email", "email": "ada@example.com", "purpose": "verify"})
    code = mail_code(await mailbox.wait_for("ada@example.com"))
    bad = await mclient.post(
        "/otp/verify", json={"channel": "email", "email": "ada@example.com", "code": wrong(code), "purpose": "verify"}
    )
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_token"
    good = await mclient.post(
        "/otp/verify", json={"channel": "email", "email": "ada@example.com", "code": code, "purpose": "verify"}
    )
    assert good.status_code == 200 and good.json()["user"]["emailVerified"] is True


async def test_a_login_code_is_not_a_verify_code(mclient: httpx.AsyncClient, mailbox: Mailbox) -> None:
    await register(mclient)
    await mclient.post("/otp/send", json={"channel": "email", "email": "ada@example.com", "purpose": "login"})
    code = mail_code(await mailbox.wait_for("ada@example.com"))
    cross = await mclient.post(
        "/otp/verify", json={"channel": "email", "email": "ada@example.com", "code": code, "purpose": "verify"}
    )
    assert cross.status_code == 400


async def test_second_factor_enrol_and_remove(mclient: httpx.AsyncClient, sms: SmsReceiver) -> None:
    token = await verified_phone_user(mclient, sms)
    auth = bearer(token)
    # Enrolling needs the account's token, and codes go only to the caller's own phone.
    anonymous = await mclient.post("/otp/verify", json={"channel": "sms", "code": "123456", "purpose": "mfa"})
    assert anonymous.status_code == 401
    elsewhere = await mclient.post(
        "/otp/send", json={"channel": "sms", "phone": "+14155550199", "purpose": "mfa"}, headers=auth
    )
    assert elsewhere.status_code == 400

    assert (await mclient.post("/otp/send", json={"channel": "sms", "purpose": "mfa"}, headers=auth)).status_code == 202
    code = code_in(await sms.wait_for(PHONE, 2))
    bad = await mclient.post(
        "/otp/verify", json={"channel": "sms", "code": wrong(code), "purpose": "mfa"}, headers=auth
    )
    assert bad.status_code == 401 and bad.json()["code"] == "invalid_mfa_code"
    on = await mclient.post("/otp/verify", json={"channel": "sms", "code": code, "purpose": "mfa"}, headers=auth)
    assert on.status_code == 200 and on.json() == {"message": "One-time-code second factor enabled", "channel": "sms"}
    assert (await mclient.get("/user", headers=auth)).json()["mfaEnabled"] is True

    # An unauthenticated "mfa" send (the sign-in step) reaches the enrolled phone.
    assert (
        await mclient.post("/otp/send", json={"channel": "sms", "phone": PHONE, "purpose": "mfa"})
    ).status_code == 202
    login_code = code_in(await sms.wait_for(PHONE, 3))
    assert (
        await mclient.post("/otp/remove", json={"verificationCode": wrong(login_code)}, headers=auth)
    ).status_code == 401
    off = await mclient.post("/otp/remove", json={"verificationCode": login_code}, headers=auth)
    assert off.status_code == 200, off.text
    assert (await mclient.get("/user", headers=auth)).json()["mfaEnabled"] is False
    again = await mclient.post("/otp/remove", json={"verificationCode": login_code}, headers=auth)
    assert again.status_code == 400
    assert (await mclient.post("/otp/remove", json={"verificationCode": "123456"})).status_code == 401


async def test_sms_code_finishes_a_password_login_with_the_mfa_token(
    mclient: httpx.AsyncClient, sms: SmsReceiver
) -> None:
    token = await verified_phone_user(mclient, sms)
    await mclient.post("/otp/send", json={"channel": "sms", "purpose": "mfa"}, headers=bearer(token))
    enrol = code_in(await sms.wait_for(PHONE, 2))
    enabled = await mclient.post(
        "/otp/verify", json={"channel": "sms", "code": enrol, "purpose": "mfa"}, headers=bearer(token)
    )
    assert enabled.status_code == 200, enabled.text

    step1 = await mclient.post("/login", json={"email": "ada@example.com", "password": STRONG_PASSWORD})
    assert step1.status_code == 401 and step1.json()["code"] == "mfa_required"
    mfa_token = step1.json()["mfaToken"]
    assert "code" in step1.json()["mfaMethods"]
    bad = await mclient.post(
        "/otp/verify", json={"channel": "sms", "phone": PHONE, "code": "000000", "mfaToken": "not-a-token"}
    )
    assert bad.status_code == 401
    await mclient.post("/otp/send", json={"channel": "sms", "phone": PHONE, "purpose": "mfa"})
    code = code_in(await sms.wait_for(PHONE, 3))
    wrong_answer = await mclient.post(
        "/otp/verify", json={"channel": "sms", "phone": PHONE, "code": wrong(code), "mfaToken": mfa_token}
    )
    assert wrong_answer.status_code == 401 and wrong_answer.json()["code"] == "invalid_mfa_code"
    done = await mclient.post(
        "/otp/verify", json={"channel": "sms", "phone": PHONE, "code": code, "mfaToken": mfa_token}
    )
    assert done.status_code == 200, done.text
    claims = runtime(mclient).codec.decode_known(done.json()["token"], purpose="access")
    assert claims["amr"] == ["pwd", "sms"]
    replay = await mclient.post(
        "/otp/verify", json={"channel": "sms", "phone": PHONE, "code": code, "mfaToken": mfa_token}
    )
    assert replay.status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        {"channel": "fax", "phone": PHONE},
        {"channel": "sms", "phone": "not a phone"},
        {"channel": "sms"},
        {"channel": "email", "email": "nope"},
        {"channel": "email", "email": "ada@example.com", "purpose": "everything"},
        {"channel": "email", "email": 12},
    ],
)
async def test_send_validation(mclient: httpx.AsyncClient, body: dict[str, object]) -> None:
    response = await mclient.post("/otp/send", json=body)
    assert response.status_code == 400 and response.json()["code"] == "validation_failed"


async def test_malformed_codes_are_refused_without_a_try(mclient: httpx.AsyncClient, mailbox: Mailbox) -> None:
    await register(mclient)
    await mclient.post("/otp/send", json={"channel": "email", "email": "ada@example.com"})
    code = mail_code(await mailbox.wait_for("ada@example.com"))
    empty = await mclient.post("/otp/verify", json={"channel": "email", "email": "ada@example.com", "code": ""})
    assert empty.status_code == 400 and empty.json()["errors"] == [{"field": "code", "message": "Enter the code."}]
    for junk in ["abc", "1234567", "12 34 5"]:
        response = await mclient.post(
            "/otp/verify", json={"channel": "email", "email": "ada@example.com", "code": junk}
        )
        assert response.status_code == 401
    spaced = f"{code[:3]} {code[3:]}"
    ok = await mclient.post("/otp/verify", json={"channel": "email", "email": "ada@example.com", "code": spaced})
    assert ok.status_code == 200


async def test_password_login_still_works_beside_codes(mclient: httpx.AsyncClient) -> None:
    await register(mclient)
    response = await mclient.post("/login", json={"email": "ada@example.com", "password": STRONG_PASSWORD})
    assert response.status_code == 200


async def test_factors_are_independent_phone_cannot_be_both(mclient: httpx.AsyncClient, sms: SmsReceiver) -> None:
    """With SMS codes as the second factor, an SMS code cannot also be the first."""
    token = await verified_phone_user(mclient, sms)
    await mclient.post("/otp/send", json={"channel": "sms", "purpose": "mfa"}, headers=bearer(token))
    code = code_in(await sms.wait_for(PHONE, 2))
    await mclient.post("/otp/verify", json={"channel": "sms", "code": code, "purpose": "mfa"}, headers=bearer(token))
    await mclient.post("/otp/send", json={"channel": "sms", "phone": PHONE})
    login_code = code_in(await sms.wait_for(PHONE, 3))
    response = await mclient.post("/otp/verify", json={"channel": "sms", "phone": PHONE, "code": login_code})
    assert response.status_code == 403 and response.json()["code"] == "forbidden"
