"""What happens to an app's grant over its life: consents listed and revoked, RP-initiated
logout, a password change, revocation (RFC 7009), introspection (RFC 7662), client
credentials, and the token and userinfo endpoints' refusals."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import text, update

from authgate.runtime import retention
from authgate.settings import ConfigError, load_settings
from authgate.storage.models import OAuthGrant, utcnow
from tests.support.app import runtime, sql
from tests.support.databases import fault
from tests.support.http import STRONG_PASSWORD, bearer, login, tolerant
from tests.support.provider_flow import (
    APP,
    ISSUER,
    admin_token,
    authorize_url,
    exchange,
    new_client,
    provider,
    query_of,
    ready_provider,
    signed_in_code,
    token_request,
)
from tests.support.ui import BROWSER, csrf_of

BYE = "https://app.example.com/bye"


@pytest.fixture
async def op(make_client):  # type: ignore[no-untyped-def]
    scopes = ["openid", "email", "offline_access", "billing:read"]
    async with ready_provider(make_client, scopes=scopes, postLogoutRedirectUris=[BYE]) as client:
        client.service = await new_client(  # type: ignore[attr-defined]
            client,
            client.admin,  # type: ignore[attr-defined]
            name="billing",
            redirectUris=[],
            scopes=["billing:read", "billing:write"],
        )
        yield client


async def _grant(op: httpx.AsyncClient, scope: str = "openid email") -> dict[str, str]:
    app = op.app_client  # type: ignore[attr-defined]
    code, verifier, _ = await signed_in_code(op, app, scope=scope)
    answer = await exchange(op, app, code, verifier)
    assert answer.status_code == 200, answer.text
    tokens: dict[str, str] = answer.json()
    return tokens


async def _active(op: httpx.AsyncClient, token: str) -> bool:
    service = op.service  # type: ignore[attr-defined]
    asked = await op.post(
        "/oauth2/introspect", data={"token": token}, auth=(service["clientId"], service["clientSecret"])
    )
    assert asked.status_code == 200, asked.text
    return bool(asked.json()["active"])


async def test_a_user_lists_and_revokes_consents_and_the_grants_end(op: httpx.AsyncClient) -> None:
    tokens = await _grant(op)
    own = (await login(op)).json()["accessToken"]
    listed = (await op.get("/oauth2/consents", headers=bearer(own))).json()
    app = op.app_client  # type: ignore[attr-defined]
    assert [(c["clientId"], c["clientName"], c["scopes"]) for c in listed] == [
        (app["clientId"], "Grafana", ["openid", "email"])
    ]
    assert (await op.delete(f"/oauth2/consents/{app['clientId']}", headers=bearer(own))).status_code == 204
    assert not await _active(op, tokens["access_token"]) and not await _active(op, tokens["refresh_token"])
    assert (await op.delete(f"/oauth2/consents/{app['clientId']}", headers=bearer(own))).status_code == 404


async def test_the_connected_apps_page_lists_and_revokes(op: httpx.AsyncClient) -> None:
    tokens = await _grant(op)
    page = await op.get("/ui/account/apps", headers=BROWSER)
    assert page.status_code == 200 and "Grafana" in page.text and "Your email address" in page.text
    app = op.app_client  # type: ignore[attr-defined]
    revoked = await op.post(
        f"/ui/account/apps/{app['clientId']}/revoke",
        data={"csrf_token": csrf_of(page.text)},
        headers={**BROWSER, "Origin": ISSUER},
    )
    assert revoked.status_code == 303
    assert not await _active(op, tokens["access_token"])
    after = await op.get("/ui/account/apps", headers=BROWSER)
    assert "Grafana" not in after.text
    for client_id in (app["clientId"], "no-such-app"):  # revoked already, never allowed: as the API's 404
        again = await op.post(
            f"/ui/account/apps/{client_id}/revoke",
            data={"csrf_token": csrf_of(page.text)},  # any form of this session serves
            headers={**BROWSER, "Origin": ISSUER},
        )
        assert again.status_code == 404 and "There is nothing here." in again.text
        assert "has been revoked" not in again.text and "<h1>Connected apps</h1>" in again.text
    assert await sql(op, "SELECT count(*) FROM audit_log WHERE type = 'oauth2.consent_revoked'") == [(1,)]


async def test_rp_logout_with_a_hint_ends_the_session_and_its_online_grants_only(op: httpx.AsyncClient) -> None:
    online = await _grant(op)
    offline = await _grant(op, scope="openid offline_access")
    answer = await op.get(
        "/oauth2/logout",
        params={"id_token_hint": online["id_token"], "post_logout_redirect_uri": BYE, "state": "later"},
    )
    assert answer.status_code == 302 and answer.headers["location"] == f"{BYE}?state=later"
    assert not await _active(op, online["access_token"])
    assert await _active(op, offline["refresh_token"])  # offline_access outlives the browser session
    assert any(c.startswith("accessToken=") and "Max-Age=0" in c for c in answer.headers.get_list("set-cookie"))
    audit = await op.get("/audit/logs?type=session.revoked", headers=bearer(op.admin))  # type: ignore[attr-defined]
    assert audit.json()["items"][0]["data"]["reason"] == "rp_logout"


async def test_rp_logout_without_a_hint_asks_the_browser_first(op: httpx.AsyncClient) -> None:
    tokens = await _grant(op)
    app = op.app_client  # type: ignore[attr-defined]
    shown = await op.get(
        "/oauth2/logout", params={"client_id": app["clientId"], "post_logout_redirect_uri": BYE}, headers=BROWSER
    )
    assert shown.status_code == 200 and "Sign out" in shown.text
    assert "form-action 'self' https://app.example.com;" in shown.headers["content-security-policy"]
    assert await _active(op, tokens["access_token"])  # a GET signs nothing out
    fields = {"client_id": app["clientId"], "post_logout_redirect_uri": BYE}
    forged = await op.post("/oauth2/logout", data=fields, headers={**BROWSER, "Origin": "https://evil.example"})
    assert forged.status_code == 403 and await _active(op, tokens["access_token"])
    done = await op.post(
        "/oauth2/logout", data={**fields, "csrf_token": csrf_of(shown.text)}, headers={**BROWSER, "Origin": ISSUER}
    )
    assert done.status_code == 303 and done.headers["location"] == BYE
    assert not await _active(op, tokens["access_token"])


async def test_the_signed_out_page_shows_no_one_signed_in(op: httpx.AsyncClient) -> None:
    account_links = ('href="/ui/account"', 'href="/ui/logout"')  # the header's, for a signed-in viewer
    tokens = await _grant(op)
    shown = await op.get("/oauth2/logout", headers=BROWSER)
    assert shown.status_code == 200 and all(link in shown.text for link in account_links)
    done = await op.post(
        "/oauth2/logout", data={"csrf_token": csrf_of(shown.text)}, headers={**BROWSER, "Origin": ISSUER}
    )
    assert done.status_code == 200 and "You are signed out" in done.text
    assert not any(link in done.text for link in account_links)
    assert not await _active(op, tokens["access_token"])

    tokens = await _grant(op)  # with a hint and nowhere to go after: the same page at once
    done = await op.get("/oauth2/logout", params={"id_token_hint": tokens["id_token"]}, headers=BROWSER)
    assert done.status_code == 200 and "You are signed out" in done.text
    assert not any(link in done.text for link in account_links)


async def test_a_password_change_ends_every_grant_offline_ones_too(op: httpx.AsyncClient) -> None:
    offline = await _grant(op, scope="openid offline_access")
    own = (await login(op)).json()["accessToken"]
    changed = await op.put(
        "/user", json={"password": "Another-Horse-43", "currentPassword": STRONG_PASSWORD}, headers=bearer(own)
    )
    assert changed.status_code == 200, changed.text
    assert not await _active(op, offline["refresh_token"])


async def test_revoking_either_token_ends_the_grant(op: httpx.AsyncClient) -> None:
    app = op.app_client  # type: ignore[attr-defined]
    for which in ("access_token", "refresh_token"):
        tokens = await _grant(op, scope="openid offline_access")
        answer = await op.post(
            "/oauth2/revoke", data={"token": tokens[which]}, auth=(app["clientId"], app["clientSecret"])
        )
        assert answer.status_code == 200
        assert not await _active(op, tokens["access_token"]) and not await _active(op, tokens["refresh_token"])
    unknown = await op.post("/oauth2/revoke", data={"token": "nothing"}, auth=(app["clientId"], app["clientSecret"]))
    assert unknown.status_code == 200
    other = await op.post("/oauth2/revoke", data={"token": "x"}, auth=(app["clientId"], "wrong"))
    assert other.status_code == 401 and other.json()["error"] == "invalid_client"


async def test_client_credentials_name_the_client_and_no_user(op: httpx.AsyncClient) -> None:
    service = op.service  # type: ignore[attr-defined]
    answer = await token_request(op, service, grant_type="client_credentials")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["scope"] == "billing:read billing:write" and "refresh_token" not in body and "id_token" not in body
    import jwt

    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    header = jwt.get_unverified_header(body["access_token"])
    assert header["typ"] == "at+jwt" and claims["sub"] == service["clientId"] == claims["client_id"]
    assert "sid" not in claims and "email" not in claims and claims["aud"] == service["clientId"]
    narrow = await token_request(op, service, grant_type="client_credentials", scope="billing:read")
    assert narrow.json()["scope"] == "billing:read"
    beyond = await token_request(op, service, grant_type="client_credentials", scope="openid")
    assert beyond.status_code == 400 and beyond.json()["error"] == "invalid_scope"
    info = await op.get("/oauth2/userinfo", headers=bearer(body["access_token"]))
    assert info.status_code == 403 and info.headers["www-authenticate"] == 'Bearer error="insufficient_scope"'
    assert await _active(op, body["access_token"])
    revoked = await op.post(
        "/oauth2/revoke", data={"token": body["access_token"]}, auth=(service["clientId"], service["clientSecret"])
    )
    assert revoked.status_code == 200 and not await _active(op, body["access_token"])


async def test_introspection_answers_each_caller_what_it_may_know(op: httpx.AsyncClient) -> None:
    tokens = await _grant(op)
    app = op.app_client  # type: ignore[attr-defined]
    service = op.service  # type: ignore[attr-defined]
    seen = await op.post(
        "/oauth2/introspect",
        data={"token": tokens["access_token"]},
        auth=(service["clientId"], service["clientSecret"]),
    )
    answer = seen.json()
    assert answer["active"] and answer["client_id"] == app["clientId"] and answer["scope"] == "openid email"
    assert answer["token_type"] == "access_token" and answer["iss"] == ISSUER
    mine = await op.post(
        "/oauth2/introspect", data={"token": tokens["refresh_token"]}, auth=(app["clientId"], app["clientSecret"])
    )
    assert mine.json()["active"] and mine.json()["token_type"] == "refresh_token"
    other = await new_client(op, op.admin, name="Other")  # type: ignore[attr-defined]
    theirs = await op.post(
        "/oauth2/introspect", data={"token": tokens["access_token"]}, auth=(other["clientId"], other["clientSecret"])
    )
    assert theirs.json() == {"active": False}
    own = (await login(op)).json()["accessToken"]
    assert (
        await op.post("/oauth2/introspect", data={"token": own}, auth=(other["clientId"], other["clientSecret"]))
    ).json() == {"active": False}
    assert await _active(op, own)  # a service may ask about authgate's own tokens, as before
    spa = await new_client(op, op.admin, name="SPA", public=True)  # type: ignore[attr-defined]
    public = await op.post("/oauth2/introspect", data={"token": own, "client_id": spa["clientId"]})
    assert public.status_code == 401 and public.json()["error"] == "invalid_client"
    old = await op.post(
        "/token/introspect", data={"token": tokens["access_token"]}, auth=(service["clientId"], service["clientSecret"])
    )
    assert old.status_code == 200 and old.json()["active"]  # the old path is the same service


async def test_the_token_endpoints_refusals(op: httpx.AsyncClient) -> None:
    app = op.app_client  # type: ignore[attr-defined]
    auth = (app["clientId"], app["clientSecret"])
    as_json = await op.post("/oauth2/token", json={"grant_type": "client_credentials"}, auth=auth)
    assert as_json.status_code == 400 and as_json.json()["error"] == "invalid_request"
    twice = await op.post(
        "/oauth2/token",
        content="grant_type=a&grant_type=b",
        auth=auth,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert twice.json()["error"] == "invalid_request"
    password = await op.post(
        "/oauth2/token", data={"grant_type": "password", "username": "a", "password": "b"}, auth=auth
    )
    assert password.json()["error"] == "unsupported_grant_type"
    not_allowed = await op.post("/oauth2/token", data={"grant_type": "client_credentials"}, auth=auth)
    assert not_allowed.json()["error"] == "unauthorized_client"
    both = await op.post(
        "/oauth2/token", data={"grant_type": "client_credentials", "client_secret": app["clientSecret"]}, auth=auth
    )
    assert both.status_code == 401 and both.json()["error"] == "invalid_client"
    body = both.json()
    assert body["code"] == "invalid_client" and body["status"] == 401 and "error_description" in body


async def test_the_userinfo_endpoints_refusals(op: httpx.AsyncClient) -> None:
    tokens = await _grant(op)
    in_query = await op.get("/oauth2/userinfo", params={"access_token": tokens["access_token"]})
    assert in_query.status_code == 400 and in_query.json()["error"] == "invalid_request"
    missing = await op.get("/oauth2/userinfo")
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == 'Bearer realm="authgate"'
    own = (await login(op)).json()["accessToken"]
    assert (await op.get("/oauth2/userinfo", headers=bearer(own))).status_code == 401  # not an app's token


async def test_a_pending_request_that_took_too_long_says_so(op: httpx.AsyncClient) -> None:
    app = op.app_client  # type: ignore[attr-defined]
    sent = await op.get(authorize_url(app["clientId"]))
    continuation = query_of(sent.headers["location"])["return_to"]
    async with runtime(op).uow() as tx:
        await tx.db.execute(text("UPDATE one_time_secrets SET expires_at = created_at WHERE purpose = 'oauth_request'"))
    answer = await op.get(continuation, headers=BROWSER)
    assert answer.status_code == 400 and "took too long" in answer.text and "location" not in answer.headers


async def test_without_the_provider_its_endpoints_are_absent_and_clients_can_be_prepared(make_client) -> None:  # type: ignore[no-untyped-def]
    async with make_client(jwt_algorithm="RS256", public_url=ISSUER) as client:
        client.base_url = httpx.URL(ISSUER)
        token = await admin_token(client)
        made = await new_client(client, token)
        for path in ("/.well-known/openid-configuration", authorize_url(made["clientId"]), "/oauth2/userinfo"):
            assert (await client.get(path)).status_code == 404
        assert (await client.post("/oauth2/token", data={"grant_type": "client_credentials"})).status_code == 404
        assert (await client.get("/.well-known/jwks.json")).status_code == 200


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"jwt_algorithm": "HS256"}, "AUTHGATE_OIDC_PROVIDER=on needs AUTHGATE_JWT_ALGORITHM=RS256"),
        ({"public_url": "http://auth.example.com"}, "AUTHGATE_OIDC_PROVIDER=on needs an https AUTHGATE_PUBLIC_URL"),
        ({"public_url": "https://example.com/auth"}, "without a path"),
    ],
)
def test_the_provider_refuses_to_start_without_rs256_or_an_https_origin(
    overrides: dict[str, str], message: str
) -> None:
    values = {
        "jwt_secret": "s" * 40,
        "oidc_provider": True,
        "jwt_algorithm": "RS256",
        "public_url": "https://auth.example.com",
        **overrides,
    }
    with pytest.raises(ConfigError, match=message):
        load_settings(_env_file=None, **values)


async def test_a_redirect_uri_keeps_its_own_query(op: httpx.AsyncClient) -> None:
    app = await new_client(op, op.admin, redirectUris=[f"{APP}?tenant=7"])  # type: ignore[attr-defined]
    code, verifier, back = await signed_in_code(op, app, redirect_uri=f"{APP}?tenant=7")
    assert back["tenant"] == "7"
    answer = await exchange(op, app, code, verifier, redirect_uri=f"{APP}?tenant=7")
    assert answer.status_code == 200


async def test_ended_grants_are_purged_with_their_retired_tokens_and_live_ones_stay(op: httpx.AsyncClient) -> None:
    app = op.app_client  # type: ignore[attr-defined]
    ended = await _grant(op, scope="openid offline_access")
    rotated = await token_request(op, app, grant_type="refresh_token", refresh_token=ended["refresh_token"])
    assert rotated.status_code == 200
    live = await _grant(op, scope="openid offline_access")
    await op.post(
        "/oauth2/revoke", data={"token": rotated.json()["refresh_token"]}, auth=(app["clientId"], app["clientSecret"])
    )
    rt = runtime(op)
    async with rt.uow() as tx:
        await tx.db.execute(
            update(OAuthGrant)
            .where(OAuthGrant.revoked_at.is_not(None))
            .values(revoked_at=utcnow() - timedelta(days=30))
        )
    counts = await retention.purge(rt)
    assert counts["oauth_grants"] == 1 and counts["oauth_retired_tokens"] == 1
    assert await _active(op, live["refresh_token"])


async def test_without_a_sign_in_page_the_app_hears_login_required(make_client) -> None:  # type: ignore[no-untyped-def]
    async with provider(make_client, ui=False) as client:
        app = await new_client(client, await admin_token(client))
        client.cookies.clear()
        answer = await client.get(authorize_url(app["clientId"], state="s"))
        assert answer.status_code == 302
        assert query_of(answer.headers["location"])["error"] == "login_required"


async def test_an_operators_login_page_gets_the_continuation_path(make_client) -> None:  # type: ignore[no-untyped-def]
    async with provider(make_client, login_url="https://app.example.com/signin") as client:
        app = await new_client(client, await admin_token(client))
        client.cookies.clear()
        answer = await client.get(authorize_url(app["clientId"], login_hint="ada@example.com"))
        location = answer.headers["location"]
        assert location.startswith("https://app.example.com/signin?")
        sent = query_of(location)
        assert sent["return_to"].startswith("/oauth2/authorize/continue?request=")
        assert sent["client_id"] == app["clientId"] and sent["login_hint"] == "ada@example.com"
        cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("authgate-oauth="))
        assert "HttpOnly" in cookie and "Path=/" in cookie and "Max-Age=1800" in cookie and "SameSite=lax" in cookie


async def test_the_pages_of_a_pending_sign_in_let_their_forms_end_at_the_app(op: httpx.AsyncClient) -> None:
    app = op.app_client  # type: ignore[attr-defined]
    login = (await op.get(authorize_url(app["clientId"]))).headers["location"]
    page = await op.get(login, headers=BROWSER)
    assert "form-action 'self' https://app.example.com;" in page.headers["content-security-policy"]
    assert "to continue to Grafana" in page.text
    return_to = query_of(login)["return_to"]
    register = await op.get("/ui/register", params={"return_to": return_to}, headers=BROWSER)
    assert "https://app.example.com" in register.headers["content-security-policy"]
    op.cookies.clear()  # another browser: its pages allow nothing more
    foreign = await op.get(login, headers=BROWSER)
    assert "https://app.example.com" not in foreign.headers["content-security-policy"]


async def test_a_consent_with_a_fault_before_its_code_decides_nothing(op: httpx.AsyncClient) -> None:
    app = op.app_client  # type: ignore[attr-defined]
    await signed_in_code(op, app, scope="openid")
    consent = (await op.get(authorize_url(app["clientId"], scope="openid email"))).headers["location"]
    page = await op.get(consent, headers=BROWSER)
    fields = {"request": query_of(consent)["request"], "decision": "allow", "csrf_token": csrf_of(page.text)}
    async with fault(op, table="one_time_secrets", when="INSERT"), tolerant(op) as browser:
        browser.cookies = op.cookies
        failed = await browser.post("/oauth2/consent", data=fields, headers={**BROWSER, "Origin": ISSUER})
    assert failed.status_code == 500
    assert await sql(op, "SELECT scopes FROM oauth_consents") == [("openid",)]  # the earlier decision, unchanged
    assert await sql(op, "SELECT count(*) FROM audit_log WHERE type = 'oauth2.consent_granted'") == [(1,)]
    again = await op.post("/oauth2/consent", data=fields, headers={**BROWSER, "Origin": ISSUER})
    assert again.status_code == 303 and "code=" in again.headers["location"]  # the request was not spent
