"""One API an app can learn once: a code under any of its three names, one answer per kind of
failure, camelCase user objects, `setCookie: false` honoured, `/mfa/enable` without `secret`."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.support.app import ClientFactory
from tests.support.http import STRONG_PASSWORD, bearer, register
from tests.support.mfa import Authenticator, MfaAccount, enrol, mfa_token

pytestmark = pytest.mark.asyncio
CODE_NAMES = ("code", "verificationCode", "mfaCode")


@pytest.mark.parametrize("name", CODE_NAMES)
async def test_login_takes_the_second_factor_code_under_any_name(client: httpx.AsyncClient, name: str) -> None:
    account = await enrol(client)
    response = await client.post("/api/auth/login", json=account.login_body(**{name: await account.app.code()}))
    assert response.status_code == 200, response.text
    assert response.json()["accessToken"]


@pytest.mark.parametrize("name", CODE_NAMES)
async def test_mfa_verify_takes_the_code_under_any_name(client: httpx.AsyncClient, name: str) -> None:
    account = await enrol(client)
    token = await mfa_token(client, account)
    response = await client.post("/mfa/verify", json={"mfaToken": token, name: await account.app.code()})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("name", CODE_NAMES)
async def test_mfa_enable_needs_no_secret_and_takes_any_name(client: httpx.AsyncClient, name: str) -> None:
    """The server holds the secret setup issued: the client need not echo it back."""
    token = (await register(client)).json()["accessToken"]
    secret = (await client.post("/mfa/setup", headers=bearer(token))).json()["secret"]
    app = Authenticator(secret)
    enabled = await client.post("/mfa/enable", headers=bearer(token), json={name: await app.code()})
    assert enabled.status_code == 200, enabled.text
    assert len(enabled.json()["recoveryCodes"]) == 10


async def test_mfa_enable_still_checks_a_secret_that_is_given(client: httpx.AsyncClient) -> None:
    token = (await register(client)).json()["accessToken"]
    secret = (await client.post("/mfa/setup", headers=bearer(token))).json()["secret"]
    app = Authenticator(secret)
    other = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    refused = await client.post(
        "/mfa/enable", headers=bearer(token), json={"secret": other, "verificationCode": await app.code()}
    )
    assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == "secret"
    missing = await client.post("/mfa/enable", headers=bearer(token), json={"secret": secret})
    assert missing.status_code == 400 and missing.json()["errors"] == [
        {"field": "verificationCode", "message": "Enter the code."}
    ]


@pytest.mark.parametrize("name", CODE_NAMES)
async def test_mfa_disable_takes_the_code_under_any_name(client: httpx.AsyncClient, name: str) -> None:
    account = await enrol(client)
    response = await client.post("/mfa/disable", headers=account.headers, json={name: await account.app.code()})
    assert response.status_code == 200, response.text
    assert (await client.get("/user", headers=account.headers)).json()["mfaEnabled"] is False


async def test_a_wrong_second_factor_code_is_one_answer_everywhere(make_client: ClientFactory) -> None:
    """401 `invalid_mfa_code` while signing in, turning a factor on or off, or re-authenticating
    (with reauth_max_age_seconds=0, every sensitive change asks for proof)."""
    async with make_client(reauth_max_age_seconds=0) as client:
        account = await enrol_without_recent_sign_in(client)
        wrong = account.app.wrong_code()
        challenge = await mfa_token(client, account)
        answers = {
            "login": await client.post("/login", json=account.login_body(mfaCode=wrong)),
            "mfa/verify": await client.post("/mfa/verify", json={"mfaToken": challenge, "code": wrong}),
            "mfa/disable": await client.post("/mfa/disable", headers=account.headers, json={"verificationCode": wrong}),
            "mfa/setup (re-authentication)": await client.post(
                "/mfa/setup", headers=account.headers, json={"mfaCode": wrong}
            ),
        }
        other = (await register(client, email="bo@example.com")).json()["accessToken"]
        await client.post("/mfa/setup", headers=bearer(other), json={"currentPassword": STRONG_PASSWORD})
        answers["mfa/enable"] = await client.post(
            "/mfa/enable", headers=bearer(other), json={"verificationCode": wrong, "currentPassword": STRONG_PASSWORD}
        )
    for where, response in answers.items():
        assert (response.status_code, response.json()["code"]) == (401, "invalid_mfa_code"), (where, response.text)
        assert "errors" not in response.json(), where


async def enrol_without_recent_sign_in(client: httpx.AsyncClient) -> MfaAccount:
    token = (await register(client)).json()["accessToken"]
    proof = {"currentPassword": STRONG_PASSWORD}
    secret = (await client.post("/mfa/setup", headers=bearer(token), json=proof)).json()["secret"]
    app = Authenticator(secret)
    enabled = await client.post("/mfa/enable", headers=bearer(token), json={**proof, "code": await app.code()})
    assert enabled.status_code == 200, enabled.text
    return MfaAccount(
        email="ada@example.com", password=STRONG_PASSWORD, token=token, user_id="", secret=secret, app=app
    )


async def test_the_user_object_is_camel_case_with_created_at_kept(client: httpx.AsyncClient) -> None:
    registered = (await register(client)).json()
    token = registered["accessToken"]
    for user in (
        registered["user"],
        (await client.get("/user", headers=bearer(token))).json(),
        (await client.get("/profile", headers=bearer(token))).json(),
    ):
        assert user["createdAt"] == user["created_at"]
        assert user["updatedAt"]
        snake = [key for key in user if "_" in key]
        assert snake == ["created_at"], snake
        assert all(re.fullmatch(r"[a-z]+([A-Z][a-z]+)*", key) for key in user if key != "created_at")


async def test_refresh_honours_set_cookie_false(client: httpx.AsyncClient) -> None:
    login = (await register(client)).json()
    quiet = await client.post("/refresh", json={"refreshToken": login["refreshToken"], "options": {"setCookie": False}})
    assert quiet.status_code == 200, quiet.text
    assert "set-cookie" not in quiet.headers
    loud = await client.post("/refresh", json={"refreshToken": quiet.json()["refreshToken"]})
    assert loud.status_code == 200
    assert {c.split("=", 1)[0] for c in loud.headers.get_list("set-cookie")} == {"accessToken", "refreshToken"}
