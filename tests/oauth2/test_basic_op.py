"""One test per module of the OpenID Foundation's Basic OP plan that applies (static clients,
client_secret_basic and client_secret_post), driven over HTTP on both databases: a browser
walks the hosted sign-in and consent pages, the app is the test."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from tests.support.provider_flow import (
    APP,
    ISSUER,
    admin_token,
    authorize_url,
    exchange,
    follow_to_app,
    id_claims,
    new_client,
    pkce,
    provider,
    query_of,
    ready_provider,
    signed_in_code,
    token_request,
)
from tests.support.ui import BROWSER

SCOPES = ["openid", "profile", "email", "phone", "offline_access"]


@pytest.fixture
async def op(make_client):  # type: ignore[no-untyped-def]
    """The provider with an admin, a user (Ada, with a username and a phone) and a third-party app."""
    async with ready_provider(make_client, user={"username": "ada", "phone": "+14155550100"}, scopes=SCOPES) as client:
        yield client


async def _tokens(op: httpx.AsyncClient, **params: str) -> dict[str, object]:
    app = op.app_client  # type: ignore[attr-defined]
    code, verifier, _ = await signed_in_code(op, app, **params)
    answer = await exchange(op, app, code, verifier)
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store" and answer.headers["pragma"] == "no-cache"
    body: dict[str, object] = answer.json()
    return body


async def test_oidcc_server_code_flow_gives_a_valid_id_token(op: httpx.AsyncClient) -> None:
    body = await _tokens(op, nonce="n-0S6_WzA2Mj", state="af0ifjsldkj")
    assert body["token_type"] == "Bearer" and body["scope"] == "openid"
    claims = await id_claims(op, str(body["id_token"]))
    app_id = op.app_client["clientId"]  # type: ignore[attr-defined]
    assert claims["iss"] == ISSUER and claims["aud"] == app_id and claims["azp"] == app_id
    assert claims["nonce"] == "n-0S6_WzA2Mj" and claims["acr"] == "1" and claims["amr"] == ["pwd"]
    assert claims["exp"] > time.time() > claims["iat"] - 5 and isinstance(claims["auth_time"], int)
    assert claims["sid"] and claims["sub"]
    from authgate.security.oauth2 import at_hash

    assert claims["at_hash"] == at_hash(str(body["access_token"]))


async def test_oidcc_idtoken_signature_is_rs256_with_a_published_kid(op: httpx.AsyncClient) -> None:
    import jwt

    body = await _tokens(op)
    header = jwt.get_unverified_header(str(body["id_token"]))
    kids = {key["kid"] for key in (await op.get("/.well-known/jwks.json")).json()["keys"]}
    assert header["alg"] == "RS256" and header["kid"] in kids


async def test_oidcc_response_type_missing_is_an_invalid_request_redirect(op: httpx.AsyncClient) -> None:
    app = op.app_client  # type: ignore[attr-defined]
    url = f"/oauth2/authorize?client_id={app['clientId']}&redirect_uri={APP}&scope=openid&state=s1"
    answer = await op.get(url)
    assert answer.status_code == 302
    back = query_of(answer.headers["location"])
    assert back["error"] == "invalid_request" and back["state"] == "s1" and back["iss"] == ISSUER


@pytest.mark.parametrize("how", ["get", "post-header", "post-body"])
async def test_oidcc_userinfo(op: httpx.AsyncClient, how: str) -> None:
    body = await _tokens(op, scope="openid email")
    token = str(body["access_token"])
    if how == "get":
        answer = await op.get("/oauth2/userinfo", headers={"Authorization": f"Bearer {token}"})
    elif how == "post-header":
        answer = await op.post("/oauth2/userinfo", headers={"Authorization": f"Bearer {token}"})
    else:
        answer = await op.post("/oauth2/userinfo", data={"access_token": token})
    assert answer.status_code == 200, answer.text
    info = answer.json()
    claims = await id_claims(op, str(body["id_token"]))
    assert info == {"sub": claims["sub"], "email": "ada@example.com", "email_verified": False}
    assert answer.headers["cache-control"] == "no-store" and answer.headers["access-control-allow-origin"] == "*"


async def test_oidcc_ensure_request_without_nonce_succeeds_for_code_flow(op: httpx.AsyncClient) -> None:
    claims = await id_claims(op, str((await _tokens(op))["id_token"]))
    assert "nonce" not in claims


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        ("openid profile", {"name", "preferred_username", "updated_at"}),
        ("openid email", {"email", "email_verified"}),
        ("openid address", set()),  # not offered: dropped, the rest goes on
        ("openid phone", {"phone_number", "phone_number_verified"}),
        (
            "openid profile email address phone",
            {"preferred_username", "updated_at", "email", "email_verified", "phone_number", "phone_number_verified"},
        ),
        ("email openid", {"email", "email_verified"}),  # another order
    ],
)
async def test_oidcc_scope_claims(op: httpx.AsyncClient, scope: str, expected: set[str]) -> None:
    body = await _tokens(op, scope=scope)
    token = str(body["access_token"])
    info = (await op.get("/oauth2/userinfo", headers={"Authorization": f"Bearer {token}"})).json()
    assert set(info) - {"sub"} == expected - {"name"}  # Ada has no name: a claim without a value is left out
    claims = await id_claims(op, str(body["id_token"]))
    assert expected - {"name"} <= set(claims)
    if "phone" in scope:
        assert info["phone_number"] == "+14155550100"
    assert "address" not in str(body["scope"])


@pytest.mark.parametrize(
    "extra",
    [
        {"display": "page"},
        {"display": "popup"},
        {"claims_locales": "de"},
        {"acr_values": "2"},
        {"unknown_parameter": "x"},
        {"claims": '{"id_token":{"email":{"essential":true}}}'},
    ],
)
async def test_parameters_that_are_ignored_still_succeed(op: httpx.AsyncClient, extra: dict[str, str]) -> None:
    body = await _tokens(op, **extra)
    assert body["id_token"]


async def test_oidcc_prompt_login_gives_a_fresh_auth_time(op: httpx.AsyncClient) -> None:
    first = await id_claims(op, str((await _tokens(op))["id_token"]))
    await asyncio.sleep(1.1)
    app = op.app_client  # type: ignore[attr-defined]
    verifier, challenge = pkce()
    url = authorize_url(app["clientId"], prompt="login", code_challenge=challenge, code_challenge_method="S256")
    shown = await op.get(url)
    login = shown.headers["location"]
    assert login.startswith("/ui/login?") and query_of(login)["prompt"] == "login"
    code = query_of(await follow_to_app(op, login))["code"]
    second = await id_claims(op, str((await exchange(op, app, code, verifier)).json()["id_token"]))
    assert second["auth_time"] > first["auth_time"] and second["sid"] != first["sid"]


async def test_oidcc_prompt_none_not_logged_in_is_login_required(op: httpx.AsyncClient) -> None:
    app = op.app_client  # type: ignore[attr-defined]
    answer = await op.get(authorize_url(app["clientId"], prompt="none", state="xyz"))
    assert answer.status_code == 302
    back = query_of(answer.headers["location"])
    assert back == {
        "error": "login_required",
        "error_description": back["error_description"],
        "state": "xyz",
        "iss": ISSUER,
    }


async def test_oidcc_prompt_none_logged_in_gives_a_code_without_a_page(op: httpx.AsyncClient) -> None:
    await _tokens(op)  # signed in, and the app allowed
    app = op.app_client  # type: ignore[attr-defined]
    verifier, challenge = pkce()
    answer = await op.get(
        authorize_url(app["clientId"], prompt="none", code_challenge=challenge, code_challenge_method="S256")
    )
    assert answer.status_code == 302 and answer.headers["location"].startswith(APP)
    assert (await exchange(op, app, query_of(answer.headers["location"])["code"], verifier)).status_code == 200


async def test_oidcc_max_age_1_asks_for_a_new_sign_in(op: httpx.AsyncClient) -> None:
    first = await id_claims(op, str((await _tokens(op))["id_token"]))
    await asyncio.sleep(2)
    app = op.app_client  # type: ignore[attr-defined]
    answer = await op.get(authorize_url(app["clientId"], max_age="1"))
    assert answer.headers["location"].startswith("/ui/login?")
    second = await id_claims(op, str((await _tokens(op, max_age="1"))["id_token"]))
    assert second["auth_time"] > first["auth_time"]


async def test_oidcc_max_age_10000_keeps_the_session_and_names_auth_time(op: httpx.AsyncClient) -> None:
    first = await id_claims(op, str((await _tokens(op))["id_token"]))
    app = op.app_client  # type: ignore[attr-defined]
    answer = await op.get(authorize_url(app["clientId"], max_age="10000"))
    assert answer.headers["location"].startswith(APP)
    second = await id_claims(op, str((await _tokens(op, max_age="10000"))["id_token"]))
    assert second["auth_time"] == first["auth_time"]


async def test_oidcc_id_token_hint_of_the_signed_in_user_succeeds(op: httpx.AsyncClient) -> None:
    hint = str((await _tokens(op))["id_token"])
    app = op.app_client  # type: ignore[attr-defined]
    answer = await op.get(authorize_url(app["clientId"], prompt="none", id_token_hint=hint))
    assert answer.status_code == 302 and "code" in query_of(answer.headers["location"])
    forged = hint[:-4] + ("AAAA" if not hint.endswith("AAAA") else "BBBB")
    refused = await op.get(authorize_url(app["clientId"], prompt="none", id_token_hint=forged))
    assert query_of(refused.headers["location"])["error"] == "invalid_request"


async def test_oidcc_login_hint_prefills_the_identifier(op: httpx.AsyncClient) -> None:
    app = op.app_client  # type: ignore[attr-defined]
    sent = await op.get(authorize_url(app["clientId"], login_hint="ada@example.com"))
    login = sent.headers["location"]
    assert query_of(login)["login_hint"] == "ada@example.com"
    page = await op.get(login, headers=BROWSER)
    assert 'value="ada@example.com"' in page.text and "to continue to Grafana" in page.text


async def test_oidcc_ui_locales_picks_the_page_language(make_client) -> None:  # type: ignore[no-untyped-def]
    async with provider(make_client, ui_locales="en,de") as client:
        token = await admin_token(client)
        app = await new_client(client, token)
        client.cookies.clear()
        sent = await client.get(authorize_url(app["clientId"], ui_locales="fr de"))
        assert query_of(sent.headers["location"])["ui_locales"] == "fr de"
        page = await client.get(sent.headers["location"], headers=BROWSER)
        assert page.status_code == 200 and '<html lang="de"' in page.text


async def test_oidcc_codereuse_fails_and_revokes_the_first_access_token(op: httpx.AsyncClient) -> None:
    app = op.app_client  # type: ignore[attr-defined]
    code, verifier, _ = await signed_in_code(op, app)
    first = (await exchange(op, app, code, verifier)).json()
    again = await exchange(op, app, code, verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    info = await op.get("/oauth2/userinfo", headers={"Authorization": f"Bearer {first['access_token']}"})
    assert info.status_code == 401 and info.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    refreshed = await token_request(op, app, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert refreshed.status_code == 400 and refreshed.json()["error"] == "invalid_grant"


async def test_oidcc_ensure_registered_redirect_uri_shows_an_error_page_and_never_redirects(
    op: httpx.AsyncClient,
) -> None:
    app = op.app_client  # type: ignore[attr-defined]
    for uri in (
        "https://app.example.com/callback/other",
        "https://app.example.com/callback?x=1",
        "https://evil.example/cb",
        "",
    ):
        answer = await op.get(
            f"/oauth2/authorize?response_type=code&client_id={app['clientId']}&redirect_uri={uri}&scope=openid",
            headers={"Accept": "text/html"},
        )
        assert answer.status_code == 400 and "location" not in answer.headers
        assert answer.headers["content-type"].startswith("text/html")
    api = await op.get(
        f"/oauth2/authorize?response_type=code&client_id={app['clientId']}&redirect_uri=https://evil.example/cb"
    )
    assert (
        api.status_code == 400 and api.json()["error"] == "invalid_request" and api.json()["code"] == "invalid_request"
    )


async def test_oidcc_server_client_secret_post(op: httpx.AsyncClient) -> None:
    app = op.app_client  # type: ignore[attr-defined]
    code, verifier, _ = await signed_in_code(op, app)
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": APP, "code_verifier": verifier}
    answer = await op.post(
        "/oauth2/token", data={**form, "client_id": app["clientId"], "client_secret": app["clientSecret"]}
    )
    assert answer.status_code == 200 and answer.json()["id_token"]


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("request_uri", "request_uri_not_supported"),
        ("request", "request_not_supported"),
        ("registration", "registration_not_supported"),
    ],
)
async def test_request_objects_are_refused_as_unsupported(op: httpx.AsyncClient, name: str, error: str) -> None:
    app = op.app_client  # type: ignore[attr-defined]
    answer = await op.get(authorize_url(app["clientId"], **{name: "eyJhbGciOiJub25lIn0.e30."}))
    assert query_of(answer.headers["location"])["error"] == error


async def test_oidcc_refresh_token_with_offline_access_and_prompt_consent(op: httpx.AsyncClient) -> None:
    body = await _tokens(op, scope="openid offline_access", prompt="consent")
    app = op.app_client  # type: ignore[attr-defined]
    first = await id_claims(op, str(body["id_token"]))
    refreshed = await token_request(op, app, grant_type="refresh_token", refresh_token=str(body["refresh_token"]))
    assert refreshed.status_code == 200, refreshed.text
    again = refreshed.json()
    claims = await id_claims(op, again["id_token"])
    for same in ("sub", "aud", "auth_time", "sid", "amr", "acr"):
        assert claims[same] == first[same]
    assert "nonce" not in claims and again["refresh_token"] != body["refresh_token"]


async def test_oidcc_ensure_post_request_succeeds(op: httpx.AsyncClient) -> None:
    await _tokens(op)  # signed in and allowed
    app = op.app_client  # type: ignore[attr-defined]
    verifier, challenge = pkce()
    form = {
        "response_type": "code",
        "client_id": app["clientId"],
        "redirect_uri": APP,
        "scope": "openid",
        "state": "posted",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    answer = await op.post("/oauth2/authorize", data=form, headers={"Accept": "text/html"})
    assert answer.status_code == 303
    back = query_of(answer.headers["location"])
    assert back["state"] == "posted" and (await exchange(op, app, back["code"], verifier)).status_code == 200


async def test_discovery_documents(op: httpx.AsyncClient) -> None:
    for path in ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"):
        answer = await op.get(path)
        assert answer.status_code == 200
        assert answer.headers["cache-control"] == "public, max-age=300"
        assert answer.headers["access-control-allow-origin"] == "*"
        document = answer.json()
        assert document["issuer"] == ISSUER and document["token_endpoint"] == f"{ISSUER}/oauth2/token"
        assert document["id_token_signing_alg_values_supported"] == ["RS256"]
        assert document["request_uri_parameter_supported"] is False
        assert document["authorization_response_iss_parameter_supported"] is True
        assert document["code_challenge_methods_supported"] == ["S256"]


async def test_an_unknown_client_gets_the_error_page(op: httpx.AsyncClient) -> None:
    answer = await op.get(authorize_url("00000000-0000-0000-0000-000000000000"), headers={"Accept": "text/html"})
    assert answer.status_code == 400 and "location" not in answer.headers
    assert answer.headers["content-security-policy"].startswith("default-src 'none'")
