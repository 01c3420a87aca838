"""OAuth clients over the admin API: the three kinds, every rule a client must pass, who may
make one first party, the secret shown once and kept as its digest, rotation, revocation
(with the client's grants), the audit trail, the route prefixes; and what the protocol
endpoints call (`authenticate_client`, `live_client`, the rules read from a row)."""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, update

from authgate.errors import AuthError
from authgate.security.opaque import digest
from authgate.services import service_credentials
from authgate.services.admin import users as users_admin
from authgate.services.oauth2 import clients
from authgate.storage.models import OAuthClient, OAuthGrant, new_id, utcnow
from tests.support.app import ClientFactory, runtime, sql
from tests.support.http import STRONG_PASSWORD, admin_token, assert_needs_capability, bearer, register

PATH = "/oauth2/clients"
WEB = "https://billing.example.com/callback"
SPA = "https://app.example.com/callback"
NATIVE = "com.example.app:/oauth2redirect"
LOOPBACK = "http://127.0.0.1:8123/callback"
CLIENT_FIELDS = {
    "clientId",
    "name",
    "kind",
    "firstParty",
    "redirectUris",
    "postLogoutRedirectUris",
    "scopes",
    "grantTypes",
    "tokenEndpointAuthMethods",
    "accessTokenAudience",
    "createdAt",
    "lastUsedAt",
    "revokedAt",
}


async def create(client: httpx.AsyncClient, token: str, **body: Any) -> dict[str, Any]:
    response = await client.post(PATH, headers=bearer(token), json={"name": "billing-web", **body})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def manager(client: httpx.AsyncClient, admin: str, email: str = "ops@example.com") -> str:
    """A token of an account whose role carries `clients:manage` and nothing else."""
    role = await client.post("/roles", headers=bearer(admin), json={"name": "integrations", "caps": ["clients:manage"]})
    assert role.status_code == 201, role.text
    return await admin_token(client, email, role="integrations")


async def audit_entries(client: httpx.AsyncClient, *prefixes: str) -> list[tuple[str, dict[str, Any]]]:
    rows = await sql(client, "SELECT type, user_id, data FROM audit_log ORDER BY seq")
    assert all(r[1] is None for r in rows if r[0].startswith(prefixes))  # about no user
    return [(r[0], json.loads(r[2])) for r in rows if r[0].startswith(prefixes)]


def refused(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert problem["code"] == code
    return problem


async def authenticates(client: httpx.AsyncClient, client_id: str, secret: str | None) -> bool:
    try:
        await clients.authenticate_client(runtime(client), client_id=client_id, secret=secret)
    except AuthError as exc:
        assert exc.code == "invalid_client" and exc.status == 401
        return False
    return True


# --- who may ------------------------------------------------------------------------------------


async def test_without_clients_manage_every_client_endpoint_is_refused(client: httpx.AsyncClient) -> None:
    token = (await register(client)).json()["token"]
    attempts: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", PATH, None),
        ("POST", PATH, {"name": "x", "redirectUris": [WEB]}),
        ("GET", f"{PATH}/some-id", None),
        ("PUT", f"{PATH}/some-id", {"name": "y"}),
        ("POST", f"{PATH}/some-id/secret", None),
        ("DELETE", f"{PATH}/some-id", None),
    ]
    await assert_needs_capability(client, token, attempts)
    assert (await sql(client, "SELECT COUNT(*) FROM oauth_clients"))[0][0] == 0


async def test_a_role_with_clients_manage_may_manage_clients_and_nothing_more(client: httpx.AsyncClient) -> None:
    token = await manager(client, await admin_token(client))
    made = await create(client, token, redirectUris=[WEB])
    listed = (await client.get(PATH, headers=bearer(token))).json()["items"]
    assert [c["clientId"] for c in listed] == [made["clientId"]]
    assert (await client.get("/users", headers=bearer(token))).status_code == 403
    assert (await client.get("/webhooks", headers=bearer(token))).status_code == 403


async def test_only_a_holder_of_star_may_make_a_client_first_party(client: httpx.AsyncClient) -> None:
    admin = await admin_token(client)
    token = await manager(client, admin)
    problem = refused(
        await client.post(PATH, headers=bearer(token), json={"name": "own", "redirectUris": [WEB], "firstParty": True}),
        403,
        "forbidden",
    )
    assert "*" in problem["detail"]
    assert (await sql(client, "SELECT COUNT(*) FROM oauth_clients"))[0][0] == 0

    third = await create(client, token, redirectUris=[WEB], firstParty=False)
    url = f"{PATH}/{third['clientId']}"
    refused(await client.put(url, headers=bearer(token), json={"firstParty": True}), 403, "forbidden")
    same = await client.put(url, headers=bearer(token), json={"firstParty": False, "name": "renamed"})
    assert same.status_code == 200 and same.json()["firstParty"] is False  # no change of it: allowed

    own = await client.put(url, headers=bearer(admin), json={"firstParty": True})
    assert own.status_code == 200 and own.json()["firstParty"] is True
    refused(await client.put(url, headers=bearer(token), json={"firstParty": False}), 403, "forbidden")
    kept = await client.put(url, headers=bearer(token), json={"firstParty": True, "scopes": ["openid"]})
    assert kept.status_code == 200 and kept.json()["scopes"] == ["openid"]

    by_admin = await create(client, admin, name="portal", redirectUris=[SPA], public=True, firstParty=True)
    assert by_admin["firstParty"] is True
    stored = await sql(client, "SELECT name, first_party FROM oauth_clients ORDER BY created_at, id")
    assert sorted((r[0], bool(r[1])) for r in stored) == [("portal", True), ("renamed", True)]


# --- the three kinds ------------------------------------------------------------------------------


async def test_a_confidential_app_gets_its_secret_once_and_only_its_digest_is_kept(client: httpx.AsyncClient) -> None:
    token = await admin_token(client)
    response = await client.post(PATH, headers=bearer(token), json={"name": "billing-web", "redirectUris": [WEB]})
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    made = response.json()
    assert set(made) == CLIENT_FIELDS | {"clientSecret"}
    secret = made.pop("clientSecret")
    assert secret.startswith("agcs_") and len(secret) == len("agcs_") + 43
    assert response.headers["location"] == f"{PATH}/{made['clientId']}"
    assert made == {
        "clientId": made["clientId"],
        "name": "billing-web",
        "kind": "confidential",
        "firstParty": False,
        "redirectUris": [WEB],
        "postLogoutRedirectUris": [],
        "scopes": ["openid", "profile", "email"],
        "grantTypes": ["authorization_code", "refresh_token"],
        "tokenEndpointAuthMethods": ["client_secret_basic", "client_secret_post"],
        "accessTokenAudience": made["clientId"],
        "createdAt": made["createdAt"],
        "lastUsedAt": None,
        "revokedAt": None,
    }
    assert made["createdAt"].endswith("Z") and len(made["clientId"]) == 36

    one = (await client.get(response.headers["location"], headers=bearer(token))).json()
    listed = (await client.get(PATH, headers=bearer(token))).json()
    assert one == made and listed == {"items": [made], "nextCursor": None}

    rows = await sql(client, "SELECT id, secret_hash FROM oauth_clients")
    assert [tuple(r) for r in rows] == [(made["clientId"], digest(secret))]
    everything = json.dumps([list(map(str, r)) for r in await sql(client, "SELECT * FROM oauth_clients")])
    audit = json.dumps([list(map(str, r)) for r in await sql(client, "SELECT * FROM audit_log")])
    for shown in (secret, secret.removeprefix("agcs_")):
        assert shown not in everything + audit
    assert await audit_entries(client, "oauth2_client.", "service_credential.") == [
        (
            "oauth2_client.created",
            {"client": made["clientId"], "name": "billing-web", "kind": "confidential", "firstParty": False},
        )
    ]
    assert await authenticates(client, made["clientId"], secret)
    assert not await authenticates(client, made["clientId"], None)  # a confidential client sends its secret


async def test_each_kind_has_its_grants_and_ways_to_authenticate(client: httpx.AsyncClient) -> None:
    token = await admin_token(client)
    both = await create(client, token, name="reports", redirectUris=[WEB], clientCredentials=True)
    assert both["kind"] == "confidential"
    assert both["grantTypes"] == ["authorization_code", "refresh_token", "client_credentials"]

    spa = await create(client, token, name="spa", redirectUris=[SPA, NATIVE, LOOPBACK], public=True)
    assert "clientSecret" not in spa
    assert spa["kind"] == "public" and spa["redirectUris"] == [SPA, NATIVE, LOOPBACK]
    assert spa["grantTypes"] == ["authorization_code", "refresh_token"]
    assert spa["tokenEndpointAuthMethods"] == ["none"]
    assert spa["scopes"] == ["openid", "profile", "email"]
    assert (await sql(client, "SELECT secret_hash FROM oauth_clients WHERE id = :i", i=spa["clientId"]))[0][0] is None
    assert await authenticates(client, spa["clientId"], None)
    assert not await authenticates(client, spa["clientId"], "agcs_anything")  # a public client has no secret

    service = await create(client, token, name="billing", scopes=["billing:read", "billing.write"])
    assert service["clientSecret"].startswith("agsvc_") and len(service["clientSecret"]) == len("agsvc_") + 43
    assert service["kind"] == "service" and service["grantTypes"] == ["client_credentials"]
    assert service["redirectUris"] == [] and service["scopes"] == ["billing:read", "billing.write"]
    assert service["tokenEndpointAuthMethods"] == ["client_secret_basic", "client_secret_post"]
    bare = await create(client, token, name="crm")
    assert bare["kind"] == "service" and bare["scopes"] == []  # no scope unless given

    shown = await create(
        client,
        token,
        name="api",
        redirectUris=[WEB, WEB],
        postLogoutRedirectUris=["https://billing.example.com/bye"],
        scopes=["openid", "offline_access", "invoices:read", "openid"],
        accessTokenAudience="https://api.example.com",
    )
    assert shown["redirectUris"] == [WEB]  # each once
    assert shown["postLogoutRedirectUris"] == ["https://billing.example.com/bye"]
    assert shown["scopes"] == ["openid", "offline_access", "invoices:read"]
    assert shown["accessTokenAudience"] == "https://api.example.com"

    # Service clients are listed by the short form too; the others are not service credentials.
    credentials = await service_credentials.list_credentials(runtime(client))
    assert [c.id for c in credentials] == [service["clientId"], bare["clientId"]]
    assert (
        await service_credentials.authenticate(
            runtime(client), client_id=service["clientId"], secret=service["clientSecret"]
        )
    ).id == service["clientId"]
    with pytest.raises(AuthError):
        await service_credentials.authenticate(runtime(client), client_id=both["clientId"], secret=both["clientSecret"])
    types = [t for t, _ in await audit_entries(client, "oauth2_client.", "service_credential.")]
    assert types == [
        "oauth2_client.created",
        "oauth2_client.created",
        "service_credential.created",
        "service_credential.created",
        "oauth2_client.created",
    ]
    assert (await audit_entries(client, "service_credential."))[0][1] == {
        "credential": service["clientId"],
        "name": "billing",
    }


async def test_the_rules_of_a_row_for_the_protocol_endpoints(client: httpx.AsyncClient) -> None:
    token = await admin_token(client)
    app = await create(client, token, redirectUris=[WEB, SPA], postLogoutRedirectUris=[SPA], scopes=["openid", "email"])
    spa = await create(client, token, name="spa", redirectUris=[NATIVE], public=True)
    service = await create(client, token, name="svc", accessTokenAudience="urn:billing")
    rows = {c.id: c for c in await clients.list_clients(runtime(client))}
    row, public, svc = rows[app["clientId"]], rows[spa["clientId"]], rows[service["clientId"]]
    assert clients.redirect_uris(row) == [WEB, SPA] and clients.post_logout_redirect_uris(row) == [SPA]
    assert clients.scopes_of(row) == ["openid", "email"] and clients.scopes_of(svc) == []
    assert clients.audience_of(row) == row.id and clients.audience_of(svc) == "urn:billing"
    assert clients.allows_grant(row, "authorization_code") and clients.allows_grant(row, "refresh_token")
    assert not clients.allows_grant(row, "client_credentials") and not clients.allows_grant(row, "password")
    assert clients.allows_grant(public, "authorization_code") and not clients.allows_grant(public, "client_credentials")
    assert clients.allows_grant(svc, "client_credentials") and not clients.allows_grant(svc, "authorization_code")
    assert clients.redirect_uris(public) == [NATIVE] and clients.redirect_uris(svc) == []


# --- what is checked ------------------------------------------------------------------------------


BAD_CREATES: list[tuple[dict[str, Any], str]] = [
    ({"name": ""}, "name"),
    ({"name": "   "}, "name"),
    ({"name": "x" * 101}, "name"),
    ({"name": "rtl\u202ename"}, "name"),
    ({"name": "bad\x00name"}, "name"),
    ({"redirectUris": ["http://billing.example.com/cb"]}, "redirectUris.0"),  # plain http off loopback
    ({"redirectUris": [WEB, "https://example.com/cb#frag"]}, "redirectUris.1"),
    ({"redirectUris": ["https://*.example.com/cb"]}, "redirectUris.0"),
    ({"redirectUris": ["https://user@example.com/cb"]}, "redirectUris.0"),
    ({"redirectUris": ["/relative/cb"]}, "redirectUris.0"),
    ({"redirectUris": [""]}, "redirectUris.0"),
    ({"redirectUris": ["https://example.com/a b"]}, "redirectUris.0"),
    ({"redirectUris": [NATIVE]}, "redirectUris.0"),  # a private-use scheme: public clients only
    ({"redirectUris": [f"https://example.com/{i}" for i in range(21)]}, "redirectUris"),
    ({"redirectUris": [WEB], "postLogoutRedirectUris": ["http://example.com/bye"]}, "postLogoutRedirectUris.0"),
    (
        {"redirectUris": [WEB], "postLogoutRedirectUris": [f"https://e.com/{i}" for i in range(21)]},
        "postLogoutRedirectUris",
    ),
    ({"redirectUris": [SPA], "public": True, "clientCredentials": True}, "clientCredentials"),
    ({"public": True}, "redirectUris"),
    ({"public": True, "redirectUris": []}, "redirectUris"),
    ({"firstParty": True}, "firstParty"),  # a service client (the caller holds *)
    ({"postLogoutRedirectUris": [SPA]}, "postLogoutRedirectUris"),  # a service client
    ({"scopes": ["openid"]}, "scopes"),  # a service client: custom scopes only
    ({"scopes": ["billing:read", "offline_access"]}, "scopes"),
    ({"redirectUris": [WEB], "scopes": ["Upper"]}, "scopes"),
    ({"redirectUris": [WEB], "scopes": ["with space"]}, "scopes"),
    ({"redirectUris": [WEB], "scopes": ["x" * 65]}, "scopes"),
    ({"redirectUris": [WEB], "scopes": [""]}, "scopes"),
    ({"redirectUris": [WEB], "scopes": [f"s{i}" for i in range(101)]}, "scopes"),
    ({"redirectUris": [WEB], "accessTokenAudience": ""}, "accessTokenAudience"),
    ({"redirectUris": [WEB], "accessTokenAudience": "x" * 201}, "accessTokenAudience"),
    ({"redirectUris": [WEB], "accessTokenAudience": "two words"}, "accessTokenAudience"),
    ({"redirectUris": [WEB], "accessTokenAudience": "tab\there"}, "accessTokenAudience"),
    ({"redirectUris": [WEB], "public": "yes"}, "public"),  # strict types
    ({"redirectUris": WEB}, "redirectUris"),
    ({"redirectUris": [WEB], "scopes": "openid profile"}, "scopes"),
]


async def test_every_rule_of_a_new_client_is_a_400_naming_the_field(client: httpx.AsyncClient) -> None:
    token = await admin_token(client)
    for extra, field in BAD_CREATES:
        body = {"name": "billing-web", **extra}
        problem = refused(await client.post(PATH, headers=bearer(token), json=body), 400, "validation_failed")
        assert field in [e["field"] for e in problem["errors"]], (extra, problem)
    nameless = await client.post(PATH, headers=bearer(token), json={"redirectUris": [WEB]})
    assert refused(nameless, 400, "validation_failed")["errors"][0]["field"] == "name"
    assert (await sql(client, "SELECT COUNT(*) FROM oauth_clients"))[0][0] == 0
    assert await audit_entries(client, "oauth2_client.", "service_credential.") == []
    # At the limits, the same values pass.
    ok = await create(
        client,
        token,
        name="x" * 100,
        redirectUris=[f"https://example.com/{i}" for i in range(20)],
        scopes=["x" * 64, "openid"],
        accessTokenAudience="a" * 200,
    )
    assert len(ok["redirectUris"]) == 20 and ok["accessTokenAudience"] == "a" * 200


async def test_several_wrong_values_are_named_together(client: httpx.AsyncClient) -> None:
    token = await admin_token(client)
    body = {"name": "", "redirectUris": ["http://example.com/cb"], "public": True, "clientCredentials": True}
    problem = refused(await client.post(PATH, headers=bearer(token), json=body), 400, "validation_failed")
    assert {e["field"] for e in problem["errors"]} == {"name", "redirectUris.0", "clientCredentials"}


# --- changing ---------------------------------------------------------------------------------------


async def test_a_change_applies_only_the_fields_sent_and_never_the_kind(client: httpx.AsyncClient) -> None:
    token = await admin_token(client)
    app = await create(client, token, redirectUris=[WEB], accessTokenAudience="urn:api")
    url = f"{PATH}/{app['clientId']}"
    changed = await client.put(url, headers=bearer(token), json={"name": "billing", "scopes": ["openid", "phone"]})
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert set(body) == CLIENT_FIELDS
    unchanged = {k: v for k, v in app.items() if k not in ("name", "scopes", "clientSecret")}
    assert {k: v for k, v in body.items() if k not in ("name", "scopes")} == unchanged
    assert body["name"] == "billing" and body["scopes"] == ["openid", "phone"]

    moved = await client.put(
        url,
        headers=bearer(token),
        json={
            "redirectUris": [SPA, LOOPBACK],
            "postLogoutRedirectUris": [SPA],
            "public": True,
            "clientCredentials": True,
        },
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["redirectUris"] == [SPA, LOOPBACK] and moved.json()["postLogoutRedirectUris"] == [SPA]
    assert moved.json()["kind"] == "confidential" and moved.json()["grantTypes"] == [
        "authorization_code",
        "refresh_token",
    ]

    assert (await client.put(url, headers=bearer(token), json={"accessTokenAudience": "urn:other"})).json()[
        "accessTokenAudience"
    ] == "urn:other"
    back = await client.put(url, headers=bearer(token), json={"accessTokenAudience": None})
    assert back.json()["accessTokenAudience"] == app["clientId"]
    stored = await sql(client, "SELECT access_token_audience FROM oauth_clients WHERE id = :i", i=app["clientId"])
    assert stored[0][0] is None

    for bad, field in [
        ({"redirectUris": []}, "redirectUris"),  # an app keeps one
        ({"redirectUris": [NATIVE]}, "redirectUris.0"),  # still confidential
        ({"name": " "}, "name"),
        ({"scopes": ["Bad"]}, "scopes"),
        ({"accessTokenAudience": "a b"}, "accessTokenAudience"),
        ({"postLogoutRedirectUris": ["ftp://x"]}, "postLogoutRedirectUris.0"),
        ({"firstParty": "no"}, "firstParty"),
    ]:
        problem = refused(await client.put(url, headers=bearer(token), json=bad), 400, "validation_failed")
        assert field in [e["field"] for e in problem["errors"]], (bad, problem)

    service = await create(client, token, name="svc")
    service_url = f"{PATH}/{service['clientId']}"
    for bad, field in [
        ({"redirectUris": [WEB]}, "redirectUris"),  # a service stays a service
        ({"postLogoutRedirectUris": [WEB]}, "postLogoutRedirectUris"),
        ({"scopes": ["profile"]}, "scopes"),
        ({"firstParty": True}, "firstParty"),
    ]:
        problem = refused(await client.put(service_url, headers=bearer(token), json=bad), 400, "validation_failed")
        assert field in [e["field"] for e in problem["errors"]], (bad, problem)
    renamed = await client.put(service_url, headers=bearer(token), json={"name": "svc2", "scopes": ["a:b"]})
    assert renamed.status_code == 200 and renamed.json()["kind"] == "service" and renamed.json()["scopes"] == ["a:b"]

    updates = [d for t, d in await audit_entries(client, "oauth2_client.updated")]
    assert updates[0] == {"client": app["clientId"], "name": "billing", "kind": "confidential", "firstParty": False}
    assert len(updates) == 5  # one a change; the refused ones none
    same = await client.put(url, headers=bearer(token), json={"name": "billing"})
    assert same.status_code == 200
    assert len(await audit_entries(client, "oauth2_client.updated")) == 5  # nothing changed, nothing written
    refused(await client.put(f"{PATH}/no-such-client", headers=bearer(token), json={"name": "x"}), 404, "not_found")


# --- the secret -------------------------------------------------------------------------------------


async def test_a_new_secret_stops_the_old_one_at_once(client: httpx.AsyncClient) -> None:
    token = await admin_token(client)
    app = await create(client, token, redirectUris=[WEB])
    old = app["clientSecret"]
    assert await authenticates(client, app["clientId"], old)
    response = await client.post(f"{PATH}/{app['clientId']}/secret", headers=bearer(token))
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    new = response.json()
    assert set(new) == {"clientId", "clientSecret"} and new["clientId"] == app["clientId"]
    assert new["clientSecret"].startswith("agcs_") and new["clientSecret"] != old
    assert not await authenticates(client, app["clientId"], old)
    assert await authenticates(client, app["clientId"], new["clientSecret"])
    stored = await sql(client, "SELECT secret_hash FROM oauth_clients WHERE id = :i", i=app["clientId"])
    assert stored[0][0] == digest(new["clientSecret"])
    assert (await audit_entries(client, "oauth2_client.secret_rotated")) == [
        (
            "oauth2_client.secret_rotated",
            {"client": app["clientId"], "name": "billing-web", "kind": "confidential", "firstParty": False},
        )
    ]

    service = await create(client, token, name="billing")
    rotated = (await client.post(f"{PATH}/{service['clientId']}/secret", headers=bearer(token))).json()
    assert rotated["clientSecret"].startswith("agsvc_")
    rt = runtime(client)
    with pytest.raises(AuthError):
        await service_credentials.authenticate(rt, client_id=service["clientId"], secret=service["clientSecret"])
    assert (
        await service_credentials.authenticate(rt, client_id=service["clientId"], secret=rotated["clientSecret"])
    ).id

    spa = await create(client, token, name="spa", redirectUris=[SPA], public=True)
    refused(await client.post(f"{PATH}/{spa['clientId']}/secret", headers=bearer(token)), 409, "conflict")
    refused(await client.post(f"{PATH}/no-such-client/secret", headers=bearer(token)), 404, "not_found")
    assert (await sql(client, "SELECT secret_hash FROM oauth_clients WHERE id = :i", i=spa["clientId"]))[0][0] is None


# --- revoking ---------------------------------------------------------------------------------------


async def add_grant(client: httpx.AsyncClient, client_id: str, user_id: str, **values: Any) -> str:
    now = utcnow()
    grant_id = new_id()
    row = {
        "id": grant_id,
        "client_id": client_id,
        "user_id": user_id,
        "session_id": None,
        "scopes": "openid",
        "offline": False,
        "auth_time": now,
        "amr": "pwd",
        "code_hash": digest(grant_id),
        "refresh_hash": digest("refresh-" + grant_id),
        "created_at": now,
        "last_used_at": now,
        "expires_at": now + timedelta(days=1),
        "ends_at": now + timedelta(days=30),
        "revoked_at": None,
        "revoked_reason": None,
        **values,
    }
    await sql(client, insert(OAuthGrant).values(**row))
    return grant_id


async def test_revoking_keeps_the_client_listed_and_ends_its_grants(client: httpx.AsyncClient) -> None:
    token = await admin_token(client)
    user_id = (await register(client, "ada@example.com")).json()["user"]["id"]
    app = await create(client, token, redirectUris=[WEB])
    other = await create(client, token, name="other", redirectUris=[SPA], public=True)
    running = [await add_grant(client, app["clientId"], user_id) for _ in range(3)]
    earlier = utcnow() - timedelta(hours=1)
    ended = await add_grant(client, app["clientId"], user_id, revoked_at=earlier, revoked_reason="logout")
    others = await add_grant(client, other["clientId"], user_id)

    response = await client.delete(f"{PATH}/{app['clientId']}", headers=bearer(token))
    assert response.status_code == 204 and response.content == b""
    shown = (await client.get(f"{PATH}/{app['clientId']}", headers=bearer(token))).json()
    assert shown["revokedAt"] is not None and shown["revokedAt"].endswith("Z")
    listed = (await client.get(PATH, headers=bearer(token))).json()["items"]
    assert [c["clientId"] for c in listed] == [app["clientId"], other["clientId"]]
    assert listed[0]["revokedAt"] == shown["revokedAt"] and listed[1]["revokedAt"] is None

    grants = {r[0]: (r[1], r[2]) for r in await sql(client, "SELECT id, revoked_at, revoked_reason FROM oauth_grants")}
    assert all(grants[g][0] is not None and grants[g][1] == "client_revoked" for g in running)
    assert grants[ended][1] == "logout"  # an ended grant keeps its own reason
    assert grants[others] == (None, None)  # another client's grants go on

    assert not await authenticates(client, app["clientId"], app["clientSecret"])
    assert await clients.live_client(runtime(client), app["clientId"]) is None
    assert (await clients.live_client(runtime(client), other["clientId"])) is not None
    refused(await client.put(f"{PATH}/{app['clientId']}", headers=bearer(token), json={"name": "x"}), 409, "conflict")
    refused(await client.post(f"{PATH}/{app['clientId']}/secret", headers=bearer(token)), 409, "conflict")

    again = await client.delete(f"{PATH}/{app['clientId']}", headers=bearer(token))
    assert again.status_code == 204  # already revoked: nothing changes
    assert await audit_entries(client, "oauth2_client.revoked") == [
        (
            "oauth2_client.revoked",
            {"client": app["clientId"], "name": "billing-web", "kind": "confidential", "firstParty": False},
        )
    ]  # one entry, not one per grant
    refused(await client.delete(f"{PATH}/no-such-client", headers=bearer(token)), 404, "not_found")
    refused(await client.get(f"{PATH}/no-such-client", headers=bearer(token)), 404, "not_found")
    refused(await client.get(f"{PATH}/{'x' * 40}", headers=bearer(token)), 404, "not_found")


async def test_a_service_client_revoked_over_the_api_is_audited_as_a_service_credential(
    client: httpx.AsyncClient,
) -> None:
    token = await admin_token(client)
    created, secret = await service_credentials.create(runtime(client), name="billing")
    listed = (await client.get(PATH, headers=bearer(token))).json()["items"]
    assert [(c["clientId"], c["kind"]) for c in listed] == [(created.id, "service")]
    assert (await client.delete(f"{PATH}/{created.id}", headers=bearer(token))).status_code == 204
    assert [t for t, _ in await audit_entries(client, "oauth2_client.", "service_credential.")] == [
        "service_credential.created",
        "service_credential.revoked",
    ]
    with pytest.raises(AuthError):
        await service_credentials.authenticate(runtime(client), client_id=created.id, secret=secret)
    # The short form sees service clients only.
    app = await create(client, token, redirectUris=[WEB])
    with pytest.raises(AuthError) as missing:
        await service_credentials.revoke(runtime(client), credential_id=app["clientId"])
    assert missing.value.code == "not_found"


# --- listing ----------------------------------------------------------------------------------------


async def test_the_list_is_paged_oldest_first(client: httpx.AsyncClient) -> None:
    token = await admin_token(client)
    made = [(await create(client, token, name=f"c{i}"))["clientId"] for i in range(5)]
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(PATH, headers=bearer(token), params=params)).json()
        seen += [c["clientId"] for c in page["items"]]
        assert all("clientSecret" not in c for c in page["items"])
        pages += 1
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert seen == made and pages == 3
    refused(await client.get(PATH, headers=bearer(token), params={"cursor": "garbage"}), 400, "validation_failed")
    refused(await client.get(PATH, headers=bearer(token), params={"limit": 0}), 400, "validation_failed")
    refused(await client.get(PATH, headers=bearer(token), params={"limit": 201}), 400, "validation_failed")


# --- where it is served -------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["", "/auth", "/api/auth", "/api/v1/auth"])
async def test_served_under_every_prefix_with_the_location_under_the_one_used(
    client: httpx.AsyncClient, prefix: str
) -> None:
    token = await admin_token(client)
    response = await client.post(
        f"{prefix}{PATH}", headers=bearer(token), json={"name": "billing-web", "redirectUris": [WEB]}
    )
    assert response.status_code == 201, response.text
    location = response.headers["location"]
    assert location == f"{prefix}{PATH}/{response.json()['clientId']}"
    assert (await client.get(location, headers=bearer(token))).json()["name"] == "billing-web"
    assert (await client.get(f"{prefix}{PATH}", headers=bearer(token))).status_code == 200


async def test_a_configured_prefix_and_the_provider_setting_change_nothing(make_client: ClientFactory) -> None:
    async with make_client(route_prefixes=["/identity"]) as c:
        await users_admin.create_user(runtime(c), email="root@example.com", password=STRONG_PASSWORD, role="admin")
        login = await c.post("/identity/login", json={"email": "root@example.com", "password": STRONG_PASSWORD})
        token = login.json()["token"]
        response = await c.post("/identity/oauth2/clients", headers=bearer(token), json={"name": "x"})
        assert response.status_code == 201, response.text
        assert response.headers["location"] == f"/identity/oauth2/clients/{response.json()['clientId']}"
        paths = (await c.get("/openapi.json")).json()["paths"]
        assert {"/identity/oauth2/clients", "/identity/oauth2/clients/{client_id}"} <= set(paths)
    async with make_client(oidc_provider=True, jwt_algorithm="RS256", public_url="https://auth.example.com") as c:
        token = await admin_token(c, "other@example.com")  # the same database
        assert (await c.post(PATH, headers=bearer(token), json={"name": "x"})).status_code == 201


async def test_the_openapi_document_describes_the_client_endpoints(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    collection, one = spec["paths"][PATH], spec["paths"][f"{PATH}/{{client_id}}"]
    assert set(collection) == {"get", "post"} and set(one) == {"get", "put", "delete"}
    assert set(spec["paths"][f"{PATH}/{{client_id}}/secret"]) == {"post"}
    assert "201" in collection["post"]["responses"] and "204" in one["delete"]["responses"]
    shown = spec["components"]["schemas"]["OAuthClientOut"]["properties"]
    assert set(shown) == CLIENT_FIELDS


# --- authenticating, for the protocol endpoints ------------------------------------------------------------


async def test_authenticating_refuses_anything_but_the_right_secret_of_a_live_client(client: httpx.AsyncClient) -> None:
    token = await admin_token(client)
    app = await create(client, token, redirectUris=[WEB])
    spa = await create(client, token, name="spa", redirectUris=[SPA], public=True)
    secret = app["clientSecret"]
    wrong = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    for client_id, given in [
        (app["clientId"], wrong),
        (app["clientId"], ""),
        (app["clientId"], None),
        (app["clientId"].upper(), secret),
        ("00000000-0000-0000-0000-000000000000", secret),
        ("00000000-0000-0000-0000-000000000000", None),
        ("", secret),
        ("x" * 37, secret),
        ("id\x00", secret),
        (spa["clientId"], ""),
        (spa["clientId"], secret),
    ]:
        assert not await authenticates(client, client_id, given), (client_id, given)
    assert await authenticates(client, app["clientId"], secret)
    assert await authenticates(client, spa["clientId"], None)


async def test_last_use_is_recorded_at_most_once_a_minute(client: httpx.AsyncClient) -> None:
    token = await admin_token(client)
    app = await create(client, token, redirectUris=[WEB])

    async def last_used() -> Any:
        return (await sql(client, "SELECT last_used_at FROM oauth_clients WHERE id = :i", i=app["clientId"]))[0][0]

    assert await last_used() is None
    assert await authenticates(client, app["clientId"], app["clientSecret"])
    first = await last_used()
    assert first is not None
    assert await authenticates(client, app["clientId"], app["clientSecret"])
    assert await last_used() == first
    shown = (await client.get(f"{PATH}/{app['clientId']}", headers=bearer(token))).json()
    assert shown["lastUsedAt"] is not None and shown["lastUsedAt"].endswith("Z")
    stale = utcnow() - timedelta(minutes=2)
    await sql(client, update(OAuthClient).where(OAuthClient.id == app["clientId"]).values(last_used_at=stale))
    assert await authenticates(client, app["clientId"], app["clientSecret"])
    assert await last_used() not in (first, None)


async def test_an_unknown_client_id_costs_the_same_work_as_a_known_one(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counted, not timed: one lookup, one digest of the presented secret and one
    constant-time comparison of equal-length digests, whoever the id names, or none."""
    token = await admin_token(client)
    app = await create(client, token, redirectUris=[WEB])
    spa = await create(client, token, name="spa", redirectUris=[SPA], public=True)
    calls: list[str] = []
    real_get = clients.client_repo.get

    async def lookup(*args: Any, **kwargs: Any) -> Any:
        calls.append("lookup")
        return await real_get(*args, **kwargs)

    def counting(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            calls.append(name if name != "compare" else f"compare:{len(args[0])}:{len(args[1])}")
            return fn(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(clients.client_repo, "get", lookup)
    monkeypatch.setattr(clients, "digest", counting("digest", digest))
    monkeypatch.setattr(clients.hmac, "compare_digest", counting("compare", hmac.compare_digest))

    async def work(client_id: str) -> list[str]:
        calls.clear()
        assert not await authenticates(client, client_id, "agcs_wrong")
        return list(calls)

    known = await work(app["clientId"])
    assert known == ["lookup", "digest", "compare:43:43"]
    assert await work("00000000-0000-0000-0000-000000000000") == known
    assert await work(spa["clientId"]) == known  # a public client sent a secret: refused after the same work


async def test_a_live_client_is_one_that_exists_and_is_not_revoked(client: httpx.AsyncClient) -> None:
    token = await admin_token(client)
    app = await create(client, token, redirectUris=[WEB])
    rt = runtime(client)
    live = await clients.live_client(rt, app["clientId"])
    assert live is not None and live.id == app["clientId"] and live.name == "billing-web"
    for implausible in ("", "x" * 37, "a\x00b", "00000000-0000-0000-0000-000000000000"):
        assert await clients.live_client(rt, implausible) is None
    await client.delete(f"{PATH}/{app['clientId']}", headers=bearer(token))
    assert await clients.live_client(rt, app["clientId"]) is None
