"""Native apps: a magic link or a social sign-in started with a PKCE challenge ends in a
redirect to the app's own URL with a one-time code, which `POST /token` trades, with the
verifier, for the login response. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import update

from authgate.storage.models import User
from tests.support.app import sql
from tests.support.delivery import MessagingClientFactory, expire_everything
from tests.support.http import register
from tests.support.mail import Mailbox, link_in
from tests.support.mfa import enrol
from tests.support.oidc_provider import TestProvider
from tests.support.social import SocialClientFactory, query_of, through_provider

pytestmark = pytest.mark.asyncio
APP = "myapp://auth/callback"
ALLOW = ["myapp://auth", "https://app.example.com"]


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


@pytest.fixture
async def app_client(messaging_client: MessagingClientFactory) -> AsyncIterator[httpx.AsyncClient]:
    async with messaging_client(redirect_allowlist=ALLOW) as client:
        yield client


async def code_from_magic_link(client: httpx.AsyncClient, mailbox: Mailbox, challenge: str, email: str) -> str:
    asked = await client.post(
        "/login/magic",
        json={"email": email, "redirectTo": APP, "codeChallenge": challenge, "codeChallengeMethod": "S256"},
    )
    assert asked.status_code == 202, asked.text
    link = link_in(await mailbox.wait_for(email), "/login/magic/")
    opened = await client.get(link)
    assert opened.status_code == 302, opened.text
    location = opened.headers["location"]
    assert location.startswith(APP + "?code=")
    assert "set-cookie" not in opened.headers  # the app gets a code, not cookies
    return query_of(location)["code"]


async def test_magic_link_code_exchange_signs_the_app_in(app_client: httpx.AsyncClient, mailbox: Mailbox) -> None:
    user_id = (await register(app_client)).json()["user"]["id"]
    verifier, challenge = pkce()
    code = await code_from_magic_link(app_client, mailbox, challenge, "ada@example.com")
    answer = await app_client.post(
        "/token", json={"code": code, "codeVerifier": verifier, "options": {"setCookie": False}}
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["user"]["id"] == user_id and body["accessToken"] and body["refreshToken"]
    assert "set-cookie" not in answer.headers
    profile = await app_client.get("/profile", headers={"Authorization": f"Bearer {body['accessToken']}"})
    assert profile.status_code == 200
    again = await app_client.post("/token", json={"code": code, "codeVerifier": verifier})
    assert (again.status_code, again.json()["code"]) == (400, "invalid_token")


async def test_any_attempt_uses_the_code_up(app_client: httpx.AsyncClient, mailbox: Mailbox) -> None:
    """A wrong verifier burns the code: whoever intercepted it gets one guess, and the app's
    own exchange then fails rather than a thief's succeeding later."""
    await register(app_client)
    verifier, challenge = pkce()
    code = await code_from_magic_link(app_client, mailbox, challenge, "ada@example.com")
    wrong = await app_client.post("/token", json={"code": code, "codeVerifier": pkce()[0]})
    assert (wrong.status_code, wrong.json()["code"]) == (400, "invalid_token")
    right = await app_client.post("/token", json={"code": code, "codeVerifier": verifier})
    assert right.status_code == 400


async def test_the_code_expires(app_client: httpx.AsyncClient, mailbox: Mailbox) -> None:
    await register(app_client)
    verifier, challenge = pkce()
    code = await code_from_magic_link(app_client, mailbox, challenge, "ada@example.com")
    await expire_everything(app_client)
    late = await app_client.post("/token", json={"code": code, "codeVerifier": verifier})
    assert late.status_code == 400


async def test_gotrue_2612_one_code_one_session_under_parallel_exchanges(
    app_client: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    user_id = (await register(app_client)).json()["user"]["id"]
    verifier, challenge = pkce()
    code = await code_from_magic_link(app_client, mailbox, challenge, "ada@example.com")
    before = (await sql(app_client, "SELECT count(*) FROM sessions WHERE user_id = :u", u=user_id))[0][0]
    answers = await asyncio.gather(
        *(app_client.post("/token", json={"code": code, "codeVerifier": verifier}) for _ in range(10))
    )
    assert sorted(a.status_code for a in answers) == [200] + [400] * 9
    after = (await sql(app_client, "SELECT count(*) FROM sessions WHERE user_id = :u", u=user_id))[0][0]
    assert after == before + 1


async def test_the_exchange_passes_the_sign_in_gate(app_client: httpx.AsyncClient, mailbox: Mailbox) -> None:
    """A second factor still applies (the link was the first), and a disabled account is refused.
    (The address is verified first: a never-verified account is claimed by the link instead,
    which removes what its registrant set, factors included.)"""
    account = await enrol(app_client)
    await sql(app_client, update(User).where(User.id == account.user_id).values(email_verified=True))
    verifier, challenge = pkce()
    code = await code_from_magic_link(app_client, mailbox, challenge, account.email)
    pending = await app_client.post("/token", json={"code": code, "codeVerifier": verifier})
    assert (pending.status_code, pending.json()["code"]) == (401, "mfa_required"), pending.text
    done = await app_client.post(
        "/mfa/verify", json={"mfaToken": pending.json()["mfaToken"], "code": await account.app.code()}
    )
    assert done.status_code == 200, done.text

    await register(app_client, email="bo@example.com")
    verifier, challenge = pkce()
    code = await code_from_magic_link(app_client, mailbox, challenge, "bo@example.com")
    await sql(app_client, update(User).where(User.email_key == "bo@example.com").values(disabled=True))
    refused = await app_client.post("/token", json={"code": code, "codeVerifier": verifier})
    assert (refused.status_code, refused.json()["code"]) == (403, "account_disabled")


async def test_a_password_reset_voids_a_pending_code(app_client: httpx.AsyncClient, mailbox: Mailbox) -> None:
    await register(app_client)
    verifier, challenge = pkce()
    code = await code_from_magic_link(app_client, mailbox, challenge, "ada@example.com")
    await app_client.post("/password/forgot", json={"email": "ada@example.com"})
    reset = link_in(await mailbox.wait_for("ada@example.com", 2), "/password/reset/")
    assert (await app_client.post(reset, json={"password": "Another-Horse-43"})).status_code == 200
    voided = await app_client.post("/token", json={"code": code, "codeVerifier": verifier})
    assert voided.status_code == 400


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"codeChallenge": "x" * 43, "codeChallengeMethod": "plain", "redirectTo": APP}, "codeChallengeMethod"),
        ({"codeChallenge": "short", "codeChallengeMethod": "S256", "redirectTo": APP}, "codeChallenge"),
        ({"codeChallenge": "x" * 43, "codeChallengeMethod": "S256"}, "redirectTo"),
        ({"codeChallengeMethod": "S256", "redirectTo": APP}, "codeChallenge"),
        ({"codeChallenge": "x" * 43, "redirectTo": "otherapp://auth/cb"}, "redirectTo"),
        ({"codeChallenge": "x" * 43, "redirectTo": "myapp://auth.evil.com/cb"}, "redirectTo"),
        ({"codeChallenge": "x" * 43, "redirectTo": "javascript://auth/%0Aalert(1)"}, "redirectTo"),
    ],
)
async def test_a_bad_challenge_or_app_url_is_refused(
    app_client: httpx.AsyncClient, body: dict[str, str], field: str
) -> None:
    answer = await app_client.post("/login/magic", json={"email": "ada@example.com", **body})
    assert answer.status_code == 400, answer.text
    assert [e["field"] for e in answer.json()["errors"]] == [field]


async def test_a_custom_scheme_needs_its_entry(messaging_client: MessagingClientFactory) -> None:
    async with messaging_client() as client:  # the default allow-list: the public URL's origin only
        answer = await client.post("/login/magic", json={"email": "ada@example.com", "redirectTo": APP})
        assert answer.status_code == 400


async def test_social_login_code_exchange(social: SocialClientFactory, op: TestProvider) -> None:
    op.login_as("alice-1", email="alice@example.com", email_verified=True, name="Alice")
    verifier, challenge = pkce()
    async with social(redirect_allowlist=ALLOW) as client:
        start = await client.get(
            "/oauth/acme", params={"redirectTo": APP, "codeChallenge": challenge, "codeChallengeMethod": "S256"}
        )
        back = await through_provider(client, start)
        assert back.status_code == 302, back.text
        assert back.headers["location"].startswith(APP + "?code=")
        assert not [c for c in back.headers.get_list("set-cookie") if c.startswith(("accessToken", "refreshToken"))]
        code = query_of(back.headers["location"])["code"]
        answer = await client.post("/token", json={"code": code, "codeVerifier": verifier})
        assert answer.status_code == 200, answer.text
        assert answer.json()["user"]["email"] == "alice@example.com"
        assert answer.json()["user"]["emailVerified"] is True


async def test_social_login_refuses_a_challenge_without_an_app_url(social: SocialClientFactory) -> None:
    async with social(redirect_allowlist=ALLOW) as client:
        answer = await client.get("/oauth/acme", params={"codeChallenge": "x" * 43})
        assert answer.status_code == 400
