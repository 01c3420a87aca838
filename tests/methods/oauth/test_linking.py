"""Linking provider identities to accounts, attacked the way peer servers have been broken:
auto-linking by an unverified email, pre-registration takeover (through auto-link and through
an unverified provider email), link CSRF (a flow finished in the victim's browser), linking
with a stolen token (recent sign-in), identities claimed twice, a pending link surviving a
password change, and unlink races that leave an account with no way in.

End to end over HTTP against the loopback OpenID Provider, on SQLite and PostgreSQL (every
test takes `social`).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from sqlalchemy import update

from authgate.storage.models import User
from tests.support.app import sql
from tests.support.delivery import delivery_settings
from tests.support.http import STRONG_PASSWORD, bearer, register
from tests.support.mail import Mailbox, link_in
from tests.support.oidc_provider import TestProvider
from tests.support.social import (
    APP,
    PUBLIC_URL,
    SocialClientFactory,
    callback_from_provider,
    oidc_provider,
    query_of,
    sign_in,
    through_provider,
)

NEW_PASSWORD = "Another-Sturdy-Mule-77"


# --- helpers --------------------------------------------------------------------------------


@asynccontextmanager
async def browser(client: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    """Another browser (its own cookie jar) on the same running app."""
    transport = httpx.ASGITransport(app=client.app, client=("198.51.100.23", 5000))  # type: ignore[attr-defined]
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as other:
        yield other


async def start_link(client: httpx.AsyncClient, token: str, **body: Any) -> str:
    """`POST /oauth/link` with the Bearer token; the authorization URL (the browser of
    `client` now holds the `oauthBrowser` cookie that the callback checks)."""
    response = await client.post("/oauth/link", headers=bearer(token), json={"provider": "acme", **body})
    assert response.status_code == 200, response.text
    return str(response.json()["authorizationUrl"])


async def identities(client: httpx.AsyncClient) -> list[tuple[str, str, str]]:
    """Every row of linked_identities: (user_id, provider, subject)."""
    rows = await sql(client, "SELECT user_id, provider, subject FROM linked_identities ORDER BY provider, subject")
    return [(r[0], r[1], r[2]) for r in rows]


async def audit_types(client: httpx.AsyncClient, user_id: str) -> list[str]:
    rows = await sql(client, "SELECT type FROM audit_log WHERE user_id = :u ORDER BY at", u=user_id)
    return [r[0] for r in rows]


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["code"] == code, response.text


async def password_login(client: httpx.AsyncClient, email: str, password: str = STRONG_PASSWORD) -> httpx.Response:
    return await client.post("/login", json={"email": email, "password": password, "options": {"setCookie": False}})


async def set_password_by_reset(client: httpx.AsyncClient, mailbox: Mailbox, email: str) -> None:
    """`POST /password/forgot`, then the reset link from the mailbox with a new password."""
    assert (await client.post("/password/forgot", json={"email": email})).status_code == 202
    link = link_in(await mailbox.wait_for(email), "/password/reset/")
    reset = await client.post(link, json={"password": STRONG_PASSWORD})
    assert reset.status_code == 200, reset.text


# --- which account an identity opens --------------------------------------------------------


async def test_auto_link_never_trusts_an_unverified_provider_email(
    social: SocialClientFactory, op: TestProvider
) -> None:
    """Auto-link on, the provider's email matches an account but is not verified: linking it
    would hand the account to whoever typed that address at the provider."""
    async with social(oauth_auto_link=True) as client:
        user_id = (await register(client, "alice@example.com", prefix="")).json()["user"]["id"]
        op.login_as("mallory-1", email="alice@example.com", email_verified=False)
        async with browser(client) as attacker:
            refused = await sign_in(attacker)
            assert_error(refused, 409, "identity_not_linked")
            assert "accessToken" not in refused.cookies
        assert await identities(client) == []
        sessions = await sql(client, "SELECT count(*) FROM sessions WHERE user_id = :u", u=user_id)
        assert sessions[0][0] == 1  # the one register started, nothing more
        login = await password_login(client, "alice@example.com")
        assert login.status_code == 200, login.text
        assert login.json()["user"]["id"] == user_id


async def test_without_auto_link_a_verified_provider_email_links_nothing(
    social: SocialClientFactory, op: TestProvider
) -> None:
    async with social() as client:
        user_id = (await register(client, "alice@example.com", prefix="")).json()["user"]["id"]
        op.login_as("alice-1", email="alice@example.com", email_verified=True)
        async with browser(client) as other:
            assert_error(await sign_in(other), 409, "identity_not_linked")
        assert await identities(client) == []
        assert "oauth.linked" not in await audit_types(client, user_id)
        assert (await sql(client, "SELECT count(*) FROM users"))[0][0] == 1


async def test_auto_link_with_a_verified_email_signs_into_the_same_account(
    social: SocialClientFactory, op: TestProvider
) -> None:
    """The account's address is verified already (set in the database): the provider's proof
    only adds the link; the password and the account stay as they were."""
    async with social(oauth_auto_link=True) as client:
        user_id = (await register(client, "alice@example.com", prefix="")).json()["user"]["id"]
        await sql(client, update(User).where(User.id == user_id).values(email_verified=True))
        op.login_as("alice-1", email="alice@example.com", email_verified=True)
        async with browser(client) as other:
            done = await sign_in(other)
        assert done.status_code == 200, done.text
        assert done.json()["user"]["id"] == user_id
        assert await identities(client) == [(user_id, "acme", "alice-1")]
        types = await audit_types(client, user_id)
        assert "oauth.linked" in types and "account.claimed" not in types
        assert (await password_login(client, "alice@example.com")).status_code == 200
        assert (await sql(client, "SELECT count(*) FROM users"))[0][0] == 1


async def test_pre_registration_takeover_through_auto_link_is_undone(
    social: SocialClientFactory, op: TestProvider
) -> None:
    """Someone registers the victim's address (never verified), keeps a session and links a
    provider identity of their own. When the owner proves the address through a provider
    (auto-link), the account is claimed: the pre-registrant's password, session, refresh token
    and linked identity all stop working."""
    async with social(oauth_auto_link=True) as client:
        pre = (await register(client, "victim@example.com", prefix="")).json()
        user_id = pre["user"]["id"]
        op.login_as("squatter-1", email="squatter@evil.example", email_verified=True)
        assert (await through_provider(client, await start_link(client, pre["accessToken"]))).status_code == 200
        assert await identities(client) == [(user_id, "acme", "squatter-1")]

        op.login_as("owner-1", email="victim@example.com", email_verified=True)
        async with browser(client) as owner:
            done = await sign_in(owner)
            assert done.status_code == 200, done.text
            assert done.json()["user"]["id"] == user_id
            me = await owner.get("/user", headers=bearer(done.json()["accessToken"]))
            assert me.status_code == 200, me.text
            assert me.json()["emailVerified"] is True and me.json()["hasPassword"] is False
            assert [i["provider"] for i in me.json()["identities"]] == ["acme"]
        assert await identities(client) == [(user_id, "acme", "owner-1")]
        assert "account.claimed" in await audit_types(client, user_id)

        assert_error(await password_login(client, "victim@example.com"), 401, "invalid_credentials")
        assert (await client.get("/user", headers=bearer(pre["accessToken"]))).status_code == 401
        refreshed = await client.post("/token/refresh", json={"refreshToken": pre["refreshToken"]})
        assert refreshed.status_code == 401, refreshed.text
        # The squatter's own identity now opens an account of its own, not the victim's.
        op.login_as("squatter-1", email="squatter@evil.example", email_verified=True)
        async with browser(client) as squatter:
            again = await sign_in(squatter)
        assert again.status_code == 200, again.text
        assert again.json()["user"]["id"] != user_id
        # The owner's sign-in answer describes the account as the claim left it.
        claimed = done.json()["user"]
        assert claimed["emailVerified"] is True, f"the sign-in answer shows the account before its claim: {claimed}"


async def test_auto_link_claims_a_never_verified_account_even_when_verification_is_required(
    social: SocialClientFactory, op: TestProvider
) -> None:
    """With verification required, the provider's proof of the address is what lets the
    sign-in through: the gate must see the account as the claim left it (verified)."""
    async with social(oauth_auto_link=True, require_email_verification=True) as client:
        registered = await client.post("/register", json={"email": "victim@example.com", "password": STRONG_PASSWORD})
        assert registered.status_code == 201 and "token" not in registered.json()
        user_id = registered.json()["user"]["id"]
        op.login_as("owner-1", email="victim@example.com", email_verified=True)
        done = await sign_in(client)
        assert done.status_code == 200, done.text
        assert done.json()["user"]["id"] == user_id and done.json()["user"]["emailVerified"] is True
        assert await identities(client) == [(user_id, "acme", "owner-1")]


async def test_pre_registration_takeover_through_an_unverified_provider_email_is_undone(
    social: SocialClientFactory, op: TestProvider, mailbox: Mailbox
) -> None:
    """An attacker opens an account for the victim's address through a provider that does not
    verify emails. When the owner proves the mailbox (a reset link), the account is claimed:
    the attacker's identity is unlinked and no longer opens it."""
    async with social(**delivery_settings(mailbox)) as client:
        op.login_as("mallory-1", email="victim@example.com", email_verified=False)
        async with browser(client) as attacker:
            opened = await sign_in(attacker)
            assert opened.status_code == 200, opened.text
            user_id = opened.json()["user"]["id"]
            assert opened.json()["user"]["emailVerified"] is False
            assert await identities(client) == [(user_id, "acme", "mallory-1")]

            await set_password_by_reset(client, mailbox, "victim@example.com")
            assert await identities(client) == []
            assert (await attacker.get("/user", headers=bearer(opened.json()["accessToken"]))).status_code == 401

            attacker.cookies = httpx.Cookies()
            assert_error(await sign_in(attacker), 409, "identity_not_linked")
        assert await identities(client) == []
        owner = await password_login(client, "victim@example.com")
        assert owner.status_code == 200, owner.text
        assert owner.json()["user"]["id"] == user_id and owner.json()["user"]["emailVerified"] is True


# --- linking --------------------------------------------------------------------------------


async def test_explicit_link_of_an_identity_with_another_email_then_sign_in_through_it(
    social: SocialClientFactory, op: TestProvider
) -> None:
    async with social() as client:
        alice = (await register(client, "alice@example.com", prefix="")).json()
        started = await client.post("/oauth/link", headers=bearer(alice["accessToken"]), json={"provider": "acme"})
        assert started.status_code == 200, started.text
        assert set(started.json()) == {"authorizationUrl"}
        assert started.json()["authorizationUrl"].startswith(op.url("/authorize?"))
        assert started.cookies.get("oauthBrowser")
        assert started.headers["cache-control"] == "no-store"

        op.login_as("alice-work", email="alice.work@corp.example", email_verified=True)
        linked = await through_provider(client, started.json()["authorizationUrl"])
        assert linked.status_code == 200, linked.text
        assert linked.json() == {"message": "Provider linked", "provider": "acme"}
        assert "accessToken" not in linked.cookies  # linking starts no session
        me = (await client.get("/user", headers=bearer(alice["accessToken"]))).json()
        assert [(i["provider"], i["email"]) for i in me["identities"]] == [("acme", "alice.work@corp.example")]
        assert me["hasPassword"] is True

        client.cookies = httpx.Cookies()
        done = await sign_in(client)
        assert done.status_code == 200, done.text
        assert done.json()["user"]["id"] == alice["user"]["id"]
        assert done.json()["user"]["email"] == "alice@example.com"  # the account's, not the provider's
        assert (await sql(client, "SELECT count(*) FROM users"))[0][0] == 1

        # With redirectTo, the callback sends the browser back to the app.
        carol = (await register(client, "carol@example.com", prefix="")).json()
        client.cookies = httpx.Cookies()
        url = await start_link(client, carol["accessToken"], redirectTo=f"{APP}/settings")
        op.login_as("carol-1", email="carol@corp.example", email_verified=True)
        back = await through_provider(client, url)
        assert back.status_code == 302, back.text
        assert back.headers["location"] == f"{APP}/settings?linked=acme"
        assert (carol["user"]["id"], "acme", "carol-1") in await identities(client)


async def test_linking_with_a_stale_sign_in_needs_reauthentication(
    social: SocialClientFactory, op: TestProvider
) -> None:
    """A stolen access token alone must not add a way into the account."""
    async with social(reauth_max_age_seconds=0) as client:
        alice = (await register(client, "alice@example.com", prefix="")).json()
        token, user_id = alice["accessToken"], alice["user"]["id"]

        bare = await client.post("/oauth/link", headers=bearer(token), json={"provider": "acme"})
        assert_error(bare, 401, "reauthentication_required")

        wrong = await client.post(
            "/oauth/link", headers=bearer(token), json={"provider": "acme", "currentPassword": "Wrong-Horse-41"}
        )
        assert_error(wrong, 401, "invalid_credentials")
        assert (await audit_types(client, user_id)).count("user.login_failed") == 1  # counted
        flows = await sql(client, "SELECT count(*) FROM one_time_secrets WHERE purpose = 'oauth_state'")
        assert flows[0][0] == 0

        right = await client.post(
            "/oauth/link", headers=bearer(token), json={"provider": "acme", "currentPassword": STRONG_PASSWORD}
        )
        assert right.status_code == 200, right.text
        op.login_as("alice-1", email="alice@example.com", email_verified=True)
        assert (await through_provider(client, right.json()["authorizationUrl"])).status_code == 200
        assert await identities(client) == [(user_id, "acme", "alice-1")]


async def test_identity_taken_by_another_account_or_a_second_one_at_the_same_provider(
    social: SocialClientFactory, op: TestProvider
) -> None:
    async with social() as client:
        op.login_as("bob-1", email="bob@example.com", email_verified=True)
        async with browser(client) as bob_browser:
            bob_id = (await sign_in(bob_browser)).json()["user"]["id"]
        alice = (await register(client, "alice@example.com", prefix="")).json()
        alice_id = alice["user"]["id"]

        # Bob's identity, brought by Alice's link flow: it stays Bob's.
        taken = await through_provider(client, await start_link(client, alice["accessToken"]))
        assert_error(taken, 409, "identity_taken")
        assert await identities(client) == [(bob_id, "acme", "bob-1")]
        async with browser(client) as bob_browser:
            assert (await sign_in(bob_browser)).json()["user"]["id"] == bob_id

        # One identity per provider per account.
        op.login_as("alice-1", email="alice@example.com", email_verified=True)
        assert (await through_provider(client, await start_link(client, alice["accessToken"]))).status_code == 200
        op.login_as("alice-2", email="alice.other@example.com", email_verified=True)
        second = await through_provider(client, await start_link(client, alice["accessToken"]))
        assert_error(second, 409, "identity_taken")
        assert await identities(client) == [(alice_id, "acme", "alice-1"), (bob_id, "acme", "bob-1")]
        assert (await audit_types(client, alice_id)).count("oauth.linked") == 1


async def test_link_csrf_a_flow_finished_in_the_victims_browser_links_nothing(
    social: SocialClientFactory, op: TestProvider
) -> None:
    """The attacker starts a link to their own account and has the victim's browser (signed in
    at the provider) open the authorization URL: that would put the victim's identity on the
    attacker's account. The flow is bound to the attacker's browser, so it is refused, whether
    the victim's browser has no `oauthBrowser` cookie or one of its own."""
    async with social() as client:
        mallory = (await register(client, "mallory@example.com", prefix="")).json()
        op.login_as("victim-1", email="victim@example.com", email_verified=True)

        url = await start_link(client, mallory["accessToken"])
        async with browser(client) as victim:
            assert_error(await through_provider(victim, url), 400, "invalid_state")

        url = await start_link(client, mallory["accessToken"])
        async with browser(client) as victim:
            own = await victim.get("/oauth/acme")  # the victim's own sign-in, not finished
            assert own.status_code == 302 and victim.cookies.get("oauthBrowser")
            assert victim.cookies.get("oauthBrowser") != client.cookies.get("oauthBrowser")
            assert_error(await through_provider(victim, url), 400, "invalid_state")
        assert await identities(client) == []
        assert "oauth.linked" not in await audit_types(client, mallory["user"]["id"])


async def test_link_csrf_a_cookie_authenticated_link_from_a_foreign_origin_is_refused(
    social: SocialClientFactory,
) -> None:
    """`POST /oauth/link` authenticated by the accessToken cookie alone: a foreign `Origin` or
    `Referer`, or `Sec-Fetch-Site: cross-site`, is refused (403 forbidden) before any flow
    starts; our own or an allow-listed origin passes, and so (http/csrf.py) does a request with
    neither Origin nor Referer, which is not a browser's cross-site request."""
    async with social() as client:
        await register(client, "alice@example.com", prefix="")
        login = await client.post("/login", json={"email": "alice@example.com", "password": STRONG_PASSWORD})
        assert login.status_code == 200 and client.cookies.get("accessToken")

        for headers in (
            {"Origin": "https://evil.example"},
            {"Origin": f"{APP}.evil.example"},
            {"Origin": "null"},
            {"Referer": "https://evil.example/page"},
            {"Sec-Fetch-Site": "cross-site", "Origin": PUBLIC_URL},
        ):
            refused = await client.post("/oauth/link", json={"provider": "acme"}, headers=headers)
            assert_error(refused, 403, "forbidden")
            assert "oauthBrowser" not in refused.cookies, headers
        flows = await sql(client, "SELECT count(*) FROM one_time_secrets WHERE purpose = 'oauth_state'")
        assert flows[0][0] == 0

        for headers in ({"Origin": APP}, {"Origin": PUBLIC_URL}, {"Referer": f"{APP}/settings"}, {}):
            allowed = await client.post("/oauth/link", json={"provider": "acme"}, headers=headers)
            assert allowed.status_code == 200, (headers, allowed.text)
            assert allowed.json()["authorizationUrl"]


async def test_a_pending_link_is_voided_by_a_password_change(social: SocialClientFactory, op: TestProvider) -> None:
    """A link started before the password changed (by someone who had the old one, or a
    stolen session) must not complete after it."""
    async with social() as client:
        alice = (await register(client, "alice@example.com", prefix="")).json()
        url = await start_link(client, alice["accessToken"])
        changed = await client.put(
            "/user",
            headers=bearer(alice["accessToken"]),
            json={"password": NEW_PASSWORD, "currentPassword": STRONG_PASSWORD},
        )
        assert changed.status_code == 200, changed.text
        op.login_as("mallory-1", email="mallory@evil.example", email_verified=True)
        assert_error(await through_provider(client, url), 400, "invalid_state")
        assert await identities(client) == []


# --- unlinking ------------------------------------------------------------------------------


async def test_unlink_refuses_the_last_sign_in_method_and_odd_names_are_not_found(
    social: SocialClientFactory, op: TestProvider, mailbox: Mailbox
) -> None:
    async with social(**delivery_settings(mailbox)) as client:
        op.login_as("alice-1", email="alice@example.com", email_verified=True)
        token = (await sign_in(client)).json()["accessToken"]
        assert_error(await client.delete("/oauth/link/acme", headers=bearer(token)), 409, "last_sign_in_method")
        me = (await client.get("/user", headers=bearer(token))).json()
        assert [i["provider"] for i in me["identities"]] == ["acme"] and me["hasPassword"] is False
        assert len(await identities(client)) == 1

        await set_password_by_reset(client, mailbox, "alice@example.com")
        login = await password_login(client, "alice@example.com")
        assert login.status_code == 200, login.text
        token = login.json()["accessToken"]
        gone = await client.delete("/oauth/link/acme", headers=bearer(token))
        assert gone.status_code == 204, gone.text
        me = (await client.get("/user", headers=bearer(token))).json()
        assert me["identities"] == [] and me["hasPassword"] is True
        assert_error(await client.delete("/oauth/link/acme", headers=bearer(token)), 404, "not_found")

        for name in ("ACME", "acme_1", "acme.", "-acme", "a" * 33, "%E2%9C%93", "%ff", "a%2Fb"):
            odd = await client.delete(f"/oauth/link/{name}", headers=bearer(token))
            assert odd.status_code == 404, (name, odd.status_code, odd.text)
        for name in ("%00", "acme%0A"):  # control characters: refused before any route
            assert_error(await client.delete(f"/oauth/link/{name}", headers=bearer(token)), 400, "validation_failed")
        assert await identities(client) == []


async def test_concurrent_unlinks_cannot_remove_the_last_sign_in_method(
    social: SocialClientFactory, op: TestProvider
) -> None:
    """An account with no password and two providers: unlinking both at once must leave one
    (the check and the delete are one locked step, not check-then-act across requests)."""
    providers = {"acme": oidc_provider(op, "acme"), "other": oidc_provider(op, "other", client_id="other-client")}
    async with social(providers=providers) as client:
        for round_ in range(5):
            op.login_as(f"racer-{round_}", email=f"racer{round_}@example.com", email_verified=True)
            async with browser(client) as racer:
                signed_in = await sign_in(racer)
                assert signed_in.status_code == 200, signed_in.text
                user_id, token = signed_in.json()["user"]["id"], signed_in.json()["accessToken"]
                linked = await through_provider(racer, await start_link(racer, token, provider="other"))
                assert linked.status_code == 200, linked.text

                answers = await asyncio.gather(
                    racer.delete("/oauth/link/acme", headers=bearer(token)),
                    racer.delete("/oauth/link/other", headers=bearer(token)),
                )
            statuses = sorted(a.status_code for a in answers)
            assert statuses == [204, 409], [(a.status_code, a.text) for a in answers]
            assert next(a for a in answers if a.status_code == 409).json()["code"] == "last_sign_in_method"
            left = await sql(client, "SELECT count(*) FROM linked_identities WHERE user_id = :u", u=user_id)
            assert left[0][0] == 1, f"round {round_}"
            assert (await audit_types(client, user_id)).count("oauth.unlinked") == 1


async def test_unlink_is_audited_and_no_secret_reaches_the_audit_trail(
    social: SocialClientFactory, op: TestProvider
) -> None:
    async with social() as client:
        alice = (await register(client, "alice@example.com", prefix="")).json()
        user_id = alice["user"]["id"]
        url = await start_link(client, alice["accessToken"])
        browser_cookie = client.cookies.get("oauthBrowser")
        op.login_as("alice-1", email="alice@example.com", email_verified=True)
        callback = await callback_from_provider(url)
        secrets = {
            "state": query_of(url)["state"],
            "code": query_of(callback)["code"],
            "browser cookie": browser_cookie,
            "access token": alice["accessToken"],
            "refresh token": alice["refreshToken"],
            "password": STRONG_PASSWORD,
        }
        assert all(secrets.values())
        assert (await client.get(callback)).status_code == 200

        gone = await client.delete("/oauth/link/acme", headers=bearer(alice["accessToken"]))
        assert gone.status_code == 204, gone.text

        audited = await sql(
            client, "SELECT user_id, actor_id, ip_address, data FROM audit_log WHERE type = 'oauth.unlinked'"
        )
        assert len(audited) == 1
        assert audited[0][:3] == (user_id, user_id, "203.0.113.7")
        assert json.loads(audited[0][3]) == {"provider": "acme"}
        events = await sql(client, "SELECT data FROM events WHERE type = 'oauth.unlinked'")
        assert [json.loads(row[0]) for row in events] == [{"userId": user_id, "provider": "acme"}]

        rows = [*await sql(client, "SELECT * FROM audit_log"), *await sql(client, "SELECT * FROM events")]
        trail = " ".join(str(cell) for row in rows for cell in row)
        assert "oauth.linked" in trail and "oauth.unlinked" in trail
        for what, value in secrets.items():
            assert value not in trail, f"the {what} is in the audit trail or the events"
