"""Signing in through a provider, end to end over HTTP: authgate against a real OpenID
Provider on loopback, on SQLite and PostgreSQL."""

from __future__ import annotations

import httpx
import jwt
import pyotp
from sqlalchemy import update

from authgate.storage.models import User
from tests.support.app import sql
from tests.support.delivery import delivery_settings
from tests.support.http import STRONG_PASSWORD, bearer
from tests.support.mail import Mailbox, link_in
from tests.support.oidc_provider import TestProvider
from tests.support.social import (
    APP,
    CLIENT_ID,
    SocialClientFactory,
    callback_of,
    fragment_of,
    github_provider,
    query_of,
    sign_in,
    through_provider,
)


async def test_first_sign_in_creates_an_account_and_the_second_finds_it(
    social: SocialClientFactory, op: TestProvider
) -> None:
    op.login_as("alice-1", email="Alice@Example.com", email_verified=True, name="Alice")
    async with social() as client:
        first = await sign_in(client)
        assert first.status_code == 200, first.text
        body = first.json()
        assert body["message"] == "Login successful"
        assert body["tokenType"] == "Bearer" and body["token"] == body["accessToken"]
        assert body["user"]["email"] == "Alice@example.com"
        assert body["user"]["emailVerified"] is True
        assert body["user"]["name"] == "Alice"
        assert first.cookies.get("accessToken") and first.cookies.get("refreshToken")
        assert first.headers["cache-control"] == "no-store"

        me = (await client.get("/user", headers=bearer(body["accessToken"]))).json()
        assert me["hasPassword"] is False  # created through the provider: no password recorded
        assert [(i["provider"], i["email"]) for i in me["identities"]] == [("acme", "Alice@example.com")]

        second = await sign_in(client)
        assert second.status_code == 200, second.text
        assert second.json()["user"]["id"] == body["user"]["id"]
        rows = await sql(client, "SELECT count(*) FROM users")
        assert rows[0][0] == 1


async def test_the_flow_uses_pkce_s256_a_nonce_and_a_fresh_state(social: SocialClientFactory, op: TestProvider) -> None:
    op.login_as("alice-1", email="alice@example.com", email_verified=True)
    async with social() as client:
        start = await client.get("/oauth/acme")
        assert start.status_code == 302
        assert start.headers["location"].startswith(op.url("/authorize?"))
        assert "oauthBrowser" in start.cookies
        set_cookie = start.headers["set-cookie"].lower()
        assert "httponly" in set_cookie and "samesite=lax" in set_cookie
        sent = query_of(start.headers["location"])
        assert sent["client_id"] == CLIENT_ID
        assert sent["redirect_uri"] == callback_of("acme")
        assert sent["code_challenge_method"] == "S256" and len(sent["code_challenge"]) == 43
        assert len(sent["state"]) >= 43 and len(sent["nonce"]) >= 43
        assert set(sent["scope"].split()) >= {"openid", "email"}
        assert (await through_provider(client, start)).status_code == 200
        # The provider checked the verifier against the challenge; the secret went as HTTP Basic.
        assert op.token_requests[-1]["basic_auth"] is True
        again = query_of((await client.get("/oauth/acme")).headers["location"])
        assert again["state"] != sent["state"] and again["nonce"] != sent["nonce"]
        assert again["code_challenge"] != sent["code_challenge"]


async def test_over_https_the_binding_cookie_cannot_be_planted_from_a_subdomain(
    social: SocialClientFactory, op: TestProvider
) -> None:
    """Cookie tossing: a sibling subdomain could set a binding value it knows. The `__Host-`
    prefix (Secure, Path=/, no Domain) makes browsers refuse such a cookie."""
    async with social(cookie_secure=True) as client:
        start = await client.get("/oauth/acme")
        assert start.status_code == 302
        set_cookie = start.headers["set-cookie"]
        assert set_cookie.startswith("__Host-oauthBrowser=")
        attributes = {part.strip().split("=")[0].lower() for part in set_cookie.split(";")[1:]}
        assert {"secure", "httponly", "path"} <= attributes and "domain" not in attributes
        assert "Path=/" in set_cookie


async def test_with_redirect_to_the_browser_lands_in_the_app_with_cookies(
    social: SocialClientFactory, op: TestProvider
) -> None:
    op.login_as("alice-1", email="alice@example.com", email_verified=True)
    async with social() as client:
        done = await sign_in(client, redirectTo=f"{APP}/welcome?tab=1")
        assert done.status_code == 302, done.text
        assert done.headers["location"] == f"{APP}/welcome?tab=1"
        assert done.cookies.get("accessToken") and done.cookies.get("refreshToken")
        profile = await client.get("/profile")  # the cookie opens the API
        assert profile.status_code == 200 and profile.json()["email"] == "alice@example.com"


async def test_a_redirect_outside_the_allow_list_is_refused_before_the_provider(
    social: SocialClientFactory, op: TestProvider
) -> None:
    async with social() as client:
        for target in ("https://evil.example/", "//evil.example", f"{APP}.evil.example/"):
            response = await client.get("/oauth/acme", params={"redirectTo": target})
            assert response.status_code == 400, target
            assert response.json()["code"] == "validation_failed"
    assert op.authorize_requests == []


async def test_an_unknown_provider_is_not_found(social: SocialClientFactory) -> None:
    async with social() as client:
        assert (await client.get("/oauth/nope")).status_code == 404
        assert (await client.get("/oauth/nope/callback", params={"state": "x", "code": "y"})).status_code == 400


async def test_every_route_prefix_serves_the_flow(social: SocialClientFactory, op: TestProvider) -> None:
    """Started under any prefix; the redirect URI is the one registered at the provider."""
    op.login_as("alice-1", email="alice@example.com", email_verified=True)
    async with social() as client:
        for prefix in ("/auth", "/api/auth", "/api/v1/auth"):
            start = await client.get(f"{prefix}/oauth/acme")
            assert query_of(start.headers["location"])["redirect_uri"] == callback_of("acme")
            assert (await through_provider(client, start)).status_code == 200


async def test_an_unverified_provider_email_makes_an_unverified_account(
    social: SocialClientFactory, op: TestProvider
) -> None:
    op.login_as("bob-1", email="bob@example.com", email_verified=False)
    async with social() as client:
        done = await sign_in(client)
        assert done.status_code == 200, done.text
        assert done.json()["user"]["emailVerified"] is False


async def test_with_verification_required_an_unverified_email_opens_nothing(
    social: SocialClientFactory, op: TestProvider
) -> None:
    op.login_as("bob-1", email="bob@example.com", email_verified=False)
    async with social(require_email_verification=True) as client:
        done = await sign_in(client)
        assert done.status_code == 403 and done.json()["code"] == "email_not_verified"
        assert (await sql(client, "SELECT count(*) FROM users"))[0][0] == 0
        op.login_as("carol-1", email="carol@example.com", email_verified=True)
        assert (await sign_in(client)).status_code == 200


async def test_a_provider_without_an_email_is_a_clear_error(social: SocialClientFactory, op: TestProvider) -> None:
    op.login_as("anon-1")
    async with social() as client:
        done = await sign_in(client)
        assert done.status_code == 400
        assert done.json()["code"] == "oauth_failed"
        assert "email" in done.json()["detail"]


async def test_an_account_made_by_a_provider_can_set_a_first_password(
    op: TestProvider, mailbox: Mailbox, social: SocialClientFactory
) -> None:
    op.login_as("alice-1", email="alice@example.com", email_verified=True)
    async with social(**delivery_settings(mailbox)) as client:
        assert (await sign_in(client)).status_code == 200
        assert (await client.post("/password/forgot", json={"email": "alice@example.com"})).status_code == 202
        link = link_in(await mailbox.wait_for("alice@example.com"), "/password/reset/")
        assert (await client.post(link, json={"password": STRONG_PASSWORD})).status_code == 200
        login = await client.post("/login", json={"email": "alice@example.com", "password": STRONG_PASSWORD})
        assert login.status_code == 200, login.text
        me = (await client.get("/user", headers=bearer(login.json()["token"]))).json()
        assert me["hasPassword"] is True


async def test_github_signs_in_by_its_numeric_id_and_primary_email(
    social: SocialClientFactory, op: TestProvider
) -> None:
    op.login_as("4242", email="octo@example.com", email_verified=True, name="Octo Cat")
    async with social(providers={"github": github_provider(op)}) as client:
        start = await client.get("/oauth/github")
        sent = query_of(start.headers["location"])
        assert set(sent["scope"].split()) == {"read:user", "user:email"}
        assert sent["code_challenge_method"] == "S256"
        done = await through_provider(client, start)
        assert done.status_code == 200, done.text
        user = done.json()["user"]
        # The primary address, not the first one GitHub lists.
        assert user["email"] == "octo@example.com" and user["emailVerified"] is True
        assert user["name"] == "Octo Cat"
        assert (await sql(client, "SELECT subject FROM linked_identities"))[0][0] == "4242"
        assert op.token_requests[-1]["basic_auth"] is False  # GitHub takes the secret in the body


async def test_a_plain_oauth2_provider_is_read_through_its_user_info(
    social: SocialClientFactory, op: TestProvider
) -> None:
    op.register_client("plain", "plain-secret", [callback_of("corp")])
    corp = {
        "client_id": "plain",
        "client_secret": "plain-secret",
        "authorize_url": op.url("/authorize"),
        "token_url": op.url("/token"),
        "userinfo_url": op.url("/userinfo"),
    }
    op.login_as("emp-7", email="emp@corp.example", email_verified=True)
    async with social(providers={"corp": corp}) as client:
        done = await sign_in(client, "corp")
        assert done.status_code == 200, done.text
        assert done.json()["user"]["email"] == "emp@corp.example"
        assert (await sql(client, "SELECT provider, subject FROM linked_identities"))[0] == ("corp", "emp-7")


async def test_a_second_factor_still_applies(social: SocialClientFactory, op: TestProvider) -> None:
    """Signing in through a provider does not skip the account's second factor."""
    op.login_as("alice-1", email="alice@example.com", email_verified=True)
    async with social() as client:
        token = (await sign_in(client)).json()["accessToken"]
        setup = (await client.post("/mfa/setup", headers=bearer(token))).json()
        totp = pyotp.TOTP(setup["secret"])
        enable = await client.post(
            "/mfa/enable", headers=bearer(token), json={"secret": setup["secret"], "verificationCode": totp.now()}
        )
        assert enable.status_code == 200, enable.text

        fresh = httpx.Cookies()
        client.cookies = fresh
        pending = await sign_in(client)
        assert pending.status_code == 401, pending.text
        assert pending.json()["code"] == "mfa_required"
        assert "accessToken" not in pending.cookies
        recovery = enable.json()["recoveryCodes"][0]
        done = await client.post("/mfa/verify", json={"mfaToken": pending.json()["mfaToken"], "code": recovery})
        assert done.status_code == 200, done.text
        claims = jwt.decode(done.json()["accessToken"], options={"verify_signature": False})
        assert claims["amr"] == ["fed", "rec"]

        # Through the app: the mfaToken comes back in the fragment, never in the query.
        client.cookies = httpx.Cookies()
        redirected = await sign_in(client, redirectTo=f"{APP}/done")
        assert redirected.status_code == 302
        location = redirected.headers["location"]
        assert location.startswith(f"{APP}/done?")
        assert query_of(location)["error"] == "mfa_required"
        assert "mfaToken" not in query_of(location)
        assert fragment_of(location)["mfaToken"] and "totp" in fragment_of(location)["mfaMethods"]
        assert "accessToken" not in redirected.cookies


async def test_a_disabled_account_cannot_sign_in_through_a_provider(
    social: SocialClientFactory, op: TestProvider
) -> None:
    op.login_as("alice-1", email="alice@example.com", email_verified=True)
    async with social() as client:
        assert (await sign_in(client)).status_code == 200
        await sql(client, update(User).values(disabled=True))
        client.cookies = httpx.Cookies()
        refused = await sign_in(client)
        assert refused.status_code == 403 and refused.json()["code"] == "account_disabled"
        redirected = await sign_in(client, redirectTo=f"{APP}/done")
        assert query_of(redirected.headers["location"])["error"] == "account_disabled"


async def test_sign_in_and_link_are_audited_in_the_same_transaction(
    social: SocialClientFactory, op: TestProvider
) -> None:
    op.login_as("alice-1", email="alice@example.com", email_verified=True)
    async with social() as client:
        user_id = (await sign_in(client)).json()["user"]["id"]
        audit = await sql(client, "SELECT type FROM audit_log WHERE user_id = :u ORDER BY at", u=user_id)
        assert [row[0] for row in audit] == ["user.created", "oauth.linked", "user.login"]
        events = [row[0] for row in await sql(client, "SELECT type FROM events ORDER BY at")]
        assert events == ["user.created", "oauth.linked", "user.login"]
        logged = await sql(client, "SELECT data FROM audit_log WHERE type = 'user.login'")
        assert '"oauth"' in logged[0][0]


async def test_a_locked_account_cannot_sign_in_through_a_provider(
    social: SocialClientFactory, op: TestProvider
) -> None:
    """Wrong passwords typed for the account's address lock it for every way in, providers too."""
    op.login_as("alice-1", email="alice@example.com", email_verified=True)
    async with social() as client:
        assert (await sign_in(client)).status_code == 200
        for _ in range(5):
            wrong = await client.post("/login", json={"email": "alice@example.com", "password": "Wrong-Pass-123"})
            assert wrong.status_code == 401
        locked = await sign_in(client)
        assert locked.status_code == 429, locked.text
        assert locked.json()["code"] == "account_locked" and locked.headers["retry-after"]
