"""The attacks of the OAuth 2.0 security best current practice (RFC 9700) against authgate as a
provider, each made for real over HTTP: if one of these passes, an app's users are exposed."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.support.app import sql
from tests.support.http import STRONG_PASSWORD, bearer, from_address, login, register
from tests.support.provider_flow import (
    APP,
    ISSUER,
    admin_token,
    authorize_url,
    exchange,
    follow_to_app,
    new_client,
    pkce,
    provider,
    query_of,
    ready_provider,
    signed_in_code,
    token_request,
)
from tests.support.ui import BROWSER, csrf_of, submit


@pytest.fixture
async def op(make_client):  # type: ignore[no-untyped-def]
    async with ready_provider(make_client, scopes=["openid", "email", "offline_access"]) as client:
        yield client


async def test_an_unregistered_redirect_uri_is_never_followed(op: httpx.AsyncClient) -> None:
    app = op.app_client  # type: ignore[attr-defined]
    await signed_in_code(op, app)  # signed in and allowed: nothing but the URI stands in the way
    for uri in (
        "https://app.example.com/callback/../steal",
        "https://app.example.com/callbackx",
        "https://app.example.com.evil.example/callback",
        "https://APP.example.com/callback",
        "http://app.example.com/callback",
        "https://app.example.com/callback#frag",
    ):
        answer = await op.get(authorize_url(app["clientId"], redirect_uri=uri, prompt="none"))
        assert answer.status_code == 400 and "location" not in answer.headers, uri


async def test_a_replayed_code_ends_the_grant_it_bought(op: httpx.AsyncClient) -> None:
    app = op.app_client  # type: ignore[attr-defined]
    code, verifier, _ = await signed_in_code(op, app, scope="openid offline_access")
    first = (await exchange(op, app, code, verifier)).json()
    assert (await exchange(op, app, code, verifier)).json()["error"] == "invalid_grant"
    gone = await token_request(op, app, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert gone.status_code == 400 and gone.json()["error"] == "invalid_grant"
    audit = await op.get("/audit/logs?type=oauth2.code_reused", headers=bearer(op.admin))  # type: ignore[attr-defined]
    assert [entry["data"]["grantEnded"] for entry in audit.json()["items"]] == [True]


async def test_a_wrong_verifier_is_refused_and_uses_the_code_up(op: httpx.AsyncClient) -> None:
    app = op.app_client  # type: ignore[attr-defined]
    code, verifier, _ = await signed_in_code(op, app)
    wrong = await exchange(op, app, code, pkce()[0])
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    assert (await exchange(op, app, code, verifier)).json()["error"] == "invalid_grant"  # spent, right or wrong


async def test_a_failed_client_authentication_does_not_use_the_code(op: httpx.AsyncClient) -> None:
    app = op.app_client  # type: ignore[attr-defined]
    code, verifier, _ = await signed_in_code(op, app)
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": APP, "code_verifier": verifier}
    refused = await op.post("/oauth2/token", data=form, auth=(app["clientId"], "agcs_wrong"))
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
    assert refused.headers["www-authenticate"] == 'Basic realm="authgate"'
    assert (await exchange(op, app, code, verifier)).status_code == 200


async def test_pkce_downgrade_is_refused(op: httpx.AsyncClient) -> None:
    app = op.app_client  # type: ignore[attr-defined]
    await signed_in_code(op, app)
    answer = await op.get(authorize_url(app["clientId"], prompt="none"))  # a confidential app may skip PKCE
    code = query_of(answer.headers["location"])["code"]
    downgraded = await exchange(op, app, code, pkce()[0])  # but a verifier without a challenge is refused
    assert downgraded.status_code == 400 and downgraded.json()["error"] == "invalid_grant"
    plain = await op.get(authorize_url(app["clientId"], code_challenge="a" * 43, code_challenge_method="plain"))
    assert query_of(plain.headers["location"])["error"] == "invalid_request"


async def test_a_public_client_must_use_pkce(op: httpx.AsyncClient) -> None:
    spa = await new_client(op, op.admin, public=True)  # type: ignore[attr-defined]
    assert "clientSecret" not in spa
    answer = await op.get(authorize_url(spa["clientId"]))
    assert query_of(answer.headers["location"])["error"] == "invalid_request"
    code, verifier, _ = await signed_in_code(op, spa)
    without = await exchange(op, spa, code)
    assert without.json()["error"] == "invalid_grant"
    code, verifier, _ = await signed_in_code(op, spa)
    assert (await exchange(op, spa, code, verifier)).status_code == 200
    secret = await op.post(
        "/oauth2/token", data={"grant_type": "client_credentials", "client_id": spa["clientId"], "client_secret": "x"}
    )
    assert secret.status_code == 401


async def test_mix_up_every_authorization_response_names_its_issuer(op: httpx.AsyncClient) -> None:
    app = op.app_client  # type: ignore[attr-defined]
    _, _, success = await signed_in_code(op, app)
    assert success["iss"] == ISSUER
    error = await op.get(authorize_url(app["clientId"], response_type="token"))
    assert query_of(error.headers["location"]) | {"error_description": ""} == {
        "error": "unsupported_response_type",
        "error_description": "",
        "iss": ISSUER,
    }


async def test_refresh_token_replay_ends_the_grant_but_not_the_users_session(make_client) -> None:  # type: ignore[no-untyped-def]
    async with provider(make_client, refresh_reuse_grace_seconds=0) as op:
        token = await admin_token(op)
        await register(op)
        own = (await login(op)).json()  # the user's own authgate session elsewhere
        app = await new_client(op, token, scopes=["openid", "offline_access"])
        code, verifier, _ = await signed_in_code(op, app, scope="openid offline_access")
        first = (await exchange(op, app, code, verifier)).json()
        second = (await token_request(op, app, grant_type="refresh_token", refresh_token=first["refresh_token"])).json()
        replay = await token_request(op, app, grant_type="refresh_token", refresh_token=first["refresh_token"])
        assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
        after = await token_request(op, app, grant_type="refresh_token", refresh_token=second["refresh_token"])
        assert after.json()["error"] == "invalid_grant"  # the thief's token died with the grant
        info = await op.get("/oauth2/userinfo", headers=bearer(second["access_token"]))
        assert info.status_code == 401
        assert (await op.get("/profile", headers=bearer(own["accessToken"]))).status_code == 200
        audit = await op.get("/audit/logs?type=oauth2.refresh_token_reused", headers=bearer(token))
        assert audit.json()["items"][0]["data"] == {"client": app["clientId"], "grantEnded": True}


async def test_concurrent_refreshes_with_one_token_mint_one_new_token(op: httpx.AsyncClient) -> None:
    app = op.app_client  # type: ignore[attr-defined]
    code, verifier, _ = await signed_in_code(op, app, scope="openid offline_access")
    first = (await exchange(op, app, code, verifier)).json()
    answers = await asyncio.gather(
        *(token_request(op, app, grant_type="refresh_token", refresh_token=first["refresh_token"]) for _ in range(8))
    )
    assert all(answer.status_code == 200 for answer in answers), [a.text for a in answers]
    assert len({answer.json()["refresh_token"] for answer in answers}) == 1
    assert len({answer.json()["access_token"] for answer in answers}) == 1


async def test_concurrent_exchanges_of_one_code_have_one_winner(op: httpx.AsyncClient) -> None:
    app = op.app_client  # type: ignore[attr-defined]
    code, verifier, _ = await signed_in_code(op, app)
    answers = await asyncio.gather(*(exchange(op, app, code, verifier) for _ in range(8)))
    assert sorted(answer.status_code for answer in answers) == [200] + [400] * 7


async def test_a_revoked_clients_tokens_are_refused_at_once(op: httpx.AsyncClient) -> None:
    app = op.app_client  # type: ignore[attr-defined]
    code, verifier, _ = await signed_in_code(op, app, scope="openid offline_access")
    tokens = (await exchange(op, app, code, verifier)).json()
    service = await new_client(op, op.admin, name="billing", redirectUris=[])  # type: ignore[attr-defined]
    revoked = await op.delete(f"/oauth2/clients/{app['clientId']}", headers=bearer(op.admin))  # type: ignore[attr-defined]
    assert revoked.status_code == 204
    assert (await op.get("/oauth2/userinfo", headers=bearer(tokens["access_token"]))).status_code == 401
    asked = await op.post(
        "/oauth2/introspect",
        data={"token": tokens["access_token"]},
        auth=(service["clientId"], service["clientSecret"]),
    )
    assert asked.json() == {"active": False}
    refreshed = await token_request(op, app, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert refreshed.status_code == 401 and refreshed.json()["error"] == "invalid_client"
    page = await op.get(authorize_url(app["clientId"]), headers={"Accept": "text/html"})
    assert page.status_code == 400 and "location" not in page.headers


async def test_prompt_none_without_a_session_never_shows_a_page(op: httpx.AsyncClient) -> None:
    app = op.app_client  # type: ignore[attr-defined]
    answer = await op.get(authorize_url(app["clientId"], prompt="none"), headers=BROWSER)
    assert answer.status_code == 302 and query_of(answer.headers["location"])["error"] == "login_required"


async def test_consent_is_not_skipped_for_a_third_party_app(op: httpx.AsyncClient) -> None:
    app = op.app_client  # type: ignore[attr-defined]
    denied = query_of(await follow_to_app(op, authorize_url(app["clientId"], state="s"), allow=False))
    assert denied["error"] == "access_denied" and denied["state"] == "s" and denied["iss"] == ISSUER
    quiet = await op.get(authorize_url(app["clientId"], prompt="none"))
    assert query_of(quiet.headers["location"])["error"] == "consent_required"
    more = await signed_in_code(op, app, scope="openid")  # allowed now
    wider = await op.get(authorize_url(app["clientId"], scope="openid email", prompt="none"))
    assert more and query_of(wider.headers["location"])["error"] == "consent_required"  # new scopes ask again


async def test_a_first_party_app_skips_consent_and_only_an_administrator_marks_one(op: httpx.AsyncClient) -> None:
    own = await new_client(op, op.admin, name="Console", firstParty=True)  # type: ignore[attr-defined]
    code, verifier, _ = await signed_in_code(op, own, allow=None)  # a consent page would fail the walk
    tokens = (await exchange(op, own, code, verifier)).json()
    import jwt

    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert claims["role"] == "user" and claims["caps"] == []
    listed = await op.get("/oauth2/consents", headers=bearer(tokens["access_token"]))
    assert listed.status_code == 401  # an app's token never opens authgate's own API


async def test_an_apps_token_is_refused_by_authgates_own_api(op: httpx.AsyncClient) -> None:
    app = op.app_client  # type: ignore[attr-defined]
    code, verifier, _ = await signed_in_code(op, app)
    tokens = (await exchange(op, app, code, verifier)).json()
    op.cookies.clear()  # the token alone, not the browser's own session
    for method, path, body in (
        ("GET", "/profile", None),
        ("PUT", "/user", {"password": "Another-Horse-43", "currentPassword": "Sturdy-Horse-42"}),
        ("GET", "/sessions", None),
        ("DELETE", "/sessions", None),
        ("GET", "/passkeys", None),
    ):
        answer = await op.request(method, path, json=body, headers=bearer(tokens["access_token"]))
        assert answer.status_code == 401 and answer.json()["code"] == "invalid_token", (path, answer.status_code)
    assert (await op.get("/profile", headers=bearer(tokens["id_token"]))).status_code == 401


async def test_logout_is_not_an_open_redirector(op: httpx.AsyncClient) -> None:
    app = op.app_client  # type: ignore[attr-defined]
    code, verifier, _ = await signed_in_code(op, app)
    tokens = (await exchange(op, app, code, verifier)).json()
    for query in (
        {"post_logout_redirect_uri": "https://evil.example/"},
        {"post_logout_redirect_uri": "https://evil.example/", "client_id": app["clientId"]},
        {"post_logout_redirect_uri": "https://evil.example/", "id_token_hint": tokens["id_token"]},
    ):
        answer = await op.get("/oauth2/logout", params=query, headers={"Accept": "text/html"})
        assert answer.status_code == 400 and "location" not in answer.headers
    assert (
        await op.get("/oauth2/userinfo", headers=bearer(tokens["access_token"]))
    ).status_code == 200  # nothing ended


async def test_a_pending_request_cannot_be_finished_by_another_browser(op: httpx.AsyncClient) -> None:
    app = op.app_client  # type: ignore[attr-defined]
    sent = await op.get(authorize_url(app["clientId"]))
    login_page = sent.headers["location"]
    continuation = query_of(login_page)["return_to"]
    op.cookies.clear()  # another browser: no binding cookie
    answer = await op.get(continuation, headers=BROWSER)
    assert answer.status_code == 400 and "location" not in answer.headers


async def test_a_pending_request_continued_twice_at_once_gives_one_code(op: httpx.AsyncClient) -> None:
    own = await new_client(op, op.admin, name="Console", firstParty=True)  # type: ignore[attr-defined]
    login_page = (await op.get(authorize_url(own["clientId"]))).headers["location"]
    signed = await submit(op, "/ui/login", {"email": "ada@example.com", "password": "Sturdy-Horse-42"}, page=login_page)
    continuation = signed.headers["location"]
    answers = await asyncio.gather(*(op.get(continuation, headers=BROWSER) for _ in range(4)))
    codes = [a for a in answers if a.status_code == 302 and "code=" in a.headers["location"]]
    assert len(codes) == 1 and sorted(a.status_code for a in answers) == [302, 400, 400, 400]


async def test_two_consents_for_one_app_at_once_are_both_kept(op: httpx.AsyncClient) -> None:
    app = op.app_client  # type: ignore[attr-defined]
    await signed_in_code(op, app, scope="openid")  # signed in; openid allowed
    pages = []
    for scope in ("openid email", "openid offline_access"):  # each asks a new scope: two consent pages
        consent = (await op.get(authorize_url(app["clientId"], scope=scope))).headers["location"]
        pages.append((consent, await op.get(consent, headers=BROWSER)))
    answers = await asyncio.gather(
        *(
            op.post(
                "/oauth2/consent",
                data={"request": query_of(url)["request"], "decision": "allow", "csrf_token": csrf_of(page.text)},
                headers={**BROWSER, "Origin": ISSUER},
            )
            for url, page in pages
        )
    )
    assert [a.status_code for a in answers] == [303, 303], [a.text[:300] for a in answers]
    assert all("code=" in a.headers["location"] for a in answers)


async def test_a_consent_without_this_browsers_csrf_token_is_refused_and_decides_nothing(
    op: httpx.AsyncClient,
) -> None:
    app = op.app_client  # type: ignore[attr-defined]
    login_page = (await op.get(authorize_url(app["clientId"]))).headers["location"]
    signed = await submit(op, "/ui/login", {"email": "ada@example.com", "password": STRONG_PASSWORD}, page=login_page)
    consent = (await op.get(signed.headers["location"], headers=BROWSER)).headers["location"]
    page = await op.get(consent, headers=BROWSER)
    async with from_address(op, "198.51.100.20") as elsewhere:  # another browser's token, from its own form
        foreign = csrf_of((await elsewhere.get("/ui/login", headers=BROWSER)).text)
    request_id = query_of(consent)["request"]
    for token in ({}, {"csrf_token": foreign}):
        answer = await op.post(
            "/oauth2/consent",
            data={"request": request_id, "decision": "allow", **token},
            headers={**BROWSER, "Origin": ISSUER},
        )
        assert answer.status_code == 403 and "location" not in answer.headers
        assert "This form has expired. Reload the page and try again." in answer.text
    assert await sql(op, "SELECT count(*) FROM oauth_consents") == [(0,)]
    assert await sql(op, "SELECT count(*) FROM audit_log WHERE type = 'oauth2.consent_granted'") == [(0,)]
    allowed = await op.post(  # nothing was decided: the page's own form still works
        "/oauth2/consent",
        data={"request": request_id, "decision": "allow", "csrf_token": csrf_of(page.text)},
        headers={**BROWSER, "Origin": ISSUER},
    )
    assert allowed.status_code == 303 and "code=" in allowed.headers["location"]


async def test_a_client_credentials_token_revoked_twice_at_once_is_revoked(op: httpx.AsyncClient) -> None:
    service = await new_client(op, op.admin, name="billing", redirectUris=[], scopes=["billing:read"])  # type: ignore[attr-defined]
    token = (await token_request(op, service, grant_type="client_credentials")).json()["access_token"]
    auth = (service["clientId"], service["clientSecret"])
    answers = await asyncio.gather(*(op.post("/oauth2/revoke", data={"token": token}, auth=auth) for _ in range(6)))
    assert [a.status_code for a in answers] == [200] * 6
    asked = await op.post("/oauth2/introspect", data={"token": token}, auth=auth)
    assert asked.json() == {"active": False}


async def test_malformed_requests_get_a_4xx_never_a_500(op: httpx.AsyncClient) -> None:
    app = op.app_client  # type: ignore[attr-defined]
    auth = (app["clientId"], app["clientSecret"])
    junk_jwt = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."
    answers = [
        await op.get(authorize_url(app["clientId"], max_age="99999999999999999999")),
        await op.get(authorize_url(app["clientId"], max_age="-1", id_token_hint=junk_jwt)),
        await op.get(authorize_url(app["clientId"], id_token_hint="a.b.c", prompt="none login")),
        await op.get(authorize_url(app["clientId"], nonce="n" * 5000, code_challenge="%00" * 50)),
        await op.get("/oauth2/authorize?client_id=%00&redirect_uri=%ff"),
        await op.get("/oauth2/authorize?" + "&".join(f"p{i}=x" for i in range(300))),
        await op.post(
            "/oauth2/authorize", content=b"\xff\xfe", headers={"Content-Type": "application/x-www-form-urlencoded"}
        ),
        await op.get("/oauth2/authorize/continue?request=" + "x" * 5000, headers=BROWSER),
        await op.get("/oauth2/consent", headers=BROWSER),
        await op.post("/oauth2/consent", data={"decision": "allow"}, headers={**BROWSER, "Origin": ISSUER}),
        await op.post("/oauth2/token", data={"grant_type": "authorization_code", "code": "x" * 10000}, auth=auth),
        await op.post("/oauth2/token", data={"grant_type": "refresh_token", "refresh_token": junk_jwt}, auth=auth),
        await op.post(
            "/oauth2/token", data={"grant_type": "refresh_token", "refresh_token": "r", "scope": "%%"}, auth=auth
        ),
        await op.post(
            "/oauth2/token",
            content=b"\xff=\xfe",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            auth=auth,
        ),
        await op.post(
            "/oauth2/token", data={"grant_type": "client_credentials"}, headers={"Authorization": "Basic !!!"}
        ),
        await op.post("/oauth2/token", data={"grant_type": "client_credentials", "client_id": "\x00" * 40}),
        await op.get("/oauth2/userinfo", headers={"Authorization": f"Bearer {junk_jwt}"}),
        await op.get("/oauth2/userinfo", headers={"Authorization": "Bearer a.b.c"}),
        await op.post(
            "/oauth2/userinfo",
            content=b"access_token=a&access_token=b",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ),
        await op.post("/oauth2/revoke", data={"token": junk_jwt}, auth=auth),
        await op.post("/oauth2/introspect", data={"token": "a.b.c"}, auth=auth),
        await op.get("/oauth2/logout", params={"id_token_hint": junk_jwt}, headers=BROWSER),
        await op.get("/oauth2/logout", params={"client_id": "nope", "post_logout_redirect_uri": "javascript:alert(1)"}),
        await op.post(
            "/oauth2/logout", content=b"\xff", headers={"Content-Type": "application/x-www-form-urlencoded", **BROWSER}
        ),
        await op.get("/oauth2/consents"),
        await op.delete("/oauth2/consents/" + "x" * 300, headers={"Authorization": "Bearer " + junk_jwt}),
    ]
    assert all(answer.status_code < 500 for answer in answers), [(a.request.url.path, a.status_code) for a in answers]
