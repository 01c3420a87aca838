"""What every answer carries and what the edge refuses, whichever route is asked: no caching
of tokens and secrets, no sniffing, HSTS over HTTPS, root-only routes at the root only, a
trailing-slash redirect that the Host header cannot steer, JSON that cannot be read two ways,
and database errors that reach the log without their values."""

from __future__ import annotations

import base64
import hashlib
import json
import re

import httpx
import pytest

from tests.support.app import ClientFactory, sql
from tests.support.http import STRONG_PASSWORD, bearer, register
from tests.support.mail import Mailbox, link_in

DEFAULT_PREFIXES = ("", "/auth", "/api/auth", "/api/v1/auth")


async def test_token_and_secret_bearing_answers_are_never_stored(mclient: httpx.AsyncClient, mailbox: Mailbox) -> None:
    """ASVS 14.3.2: login, register, refresh, the magic link and the TOTP seed carry tokens or
    secrets, which a shared cache or the browser's history must not keep."""
    registered = await register(mclient)
    login = await mclient.post("/login", json={"email": "ada@example.com", "password": STRONG_PASSWORD})
    refresh = await mclient.post("/token/refresh", json={"refreshToken": login.json()["refreshToken"]})
    setup = await mclient.post("/mfa/setup", headers=bearer(login.json()["token"]))
    assert (await mclient.post("/login/magic", json={"email": "ada@example.com"})).status_code == 202
    magic = await mclient.get(link_in(await mailbox.wait_for("ada@example.com"), "/login/magic/"))
    problem = await mclient.post("/login", json={"email": "ada@example.com", "password": "wrong-Pass-123"})
    answers = (registered, login, refresh, setup, magic, problem)
    assert [a.status_code for a in answers] == [201, 200, 200, 200, 200, 401]
    for answer in answers:
        assert answer.headers["cache-control"] == "no-store", answer.request.url
    jwks = await mclient.get("/.well-known/jwks.json")
    assert jwks.headers["cache-control"].startswith("public, max-age=")  # public keys stay cacheable


async def test_every_answer_says_nosniff(client: httpx.AsyncClient) -> None:
    """A JSON answer holding user text must never be sniffed into HTML, whichever part of the
    server wrote it: a route, a problem, a guard before routing, an unknown path."""
    answers = [
        await client.get("/healthz"),
        await client.post("/login", json={"email": "x@example.com", "password": "nope"}),
        await client.post("/login", content=b"x" * 70_000, headers={"content-type": "application/json"}),
        await client.post("/login", content=b"a=b", headers={"content-type": "text/plain"}),
        await client.get("/no/such/path"),
        await client.get("/login%00"),
    ]
    assert [a.status_code for a in answers] == [200, 401, 413, 415, 404, 400]
    for answer in answers:
        assert answer.headers["x-content-type-options"] == "nosniff"


async def test_hsts_only_when_served_over_https(make_client: ClientFactory) -> None:
    """With `Secure` cookies the service is reached over HTTPS: HSTS stops a browser from ever
    trying plain HTTP, where a network attacker could strip or plant a cookie."""
    async with make_client(cookie_secure=True) as secure:
        assert (await secure.get("/healthz")).headers["strict-transport-security"] == "max-age=31536000"
        assert "strict-transport-security" in (await secure.post("/login", json={})).headers
    async with make_client(cookie_secure=False) as plain:
        assert "strict-transport-security" not in (await plain.get("/healthz")).headers


@pytest.mark.parametrize("path", ["/metrics", "/healthz", "/readyz", "/docs", "/openapi.json", "/docs/init.js"])
async def test_root_only_routes_do_not_answer_under_a_prefix(client: httpx.AsyncClient, path: str) -> None:
    """A proxy that exposes only `/auth/` must not expose the metrics or the API docs with it."""
    for prefix in DEFAULT_PREFIXES[1:]:
        answer = await client.get(prefix + path)
        assert answer.status_code == 404, (prefix + path, answer.status_code)
        assert answer.json()["code"] == "not_found"


async def test_api_docs_load_pinned_local_assets_with_integrity(client: httpx.AsyncClient) -> None:
    page = await client.get("/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    sources = re.findall(r'(?:src|href)="([^"]+)" integrity="(sha384-[^"]+)"', page.text)
    assert {s for s, _ in sources} == {"/docs/swagger-ui.css", "/docs/swagger-ui-bundle.js", "/docs/init.js"}
    assert "http" not in "".join(re.findall(r'(?:src|href)="([^"]+)"', page.text))  # nothing from another host
    for source, digest in sources:
        asset = await client.get(source)
        assert asset.status_code == 200
        assert digest == "sha384-" + base64.b64encode(hashlib.sha384(asset.content).digest()).decode()
    assert (await client.get("/docs/../../etc/passwd")).status_code == 404
    assert (await client.get("/docs/swagger-editor.js")).status_code == 404  # only the files the page needs


async def test_api_docs_can_be_turned_off(make_client: ClientFactory) -> None:
    async with make_client(api_docs=False) as client:
        for path in ("/docs", "/openapi.json", "/docs/init.js"):
            assert (await client.get(path)).status_code == 404
        assert (await client.get("/healthz")).status_code == 200


async def test_trailing_slash_redirect_is_relative_not_built_from_host(client: httpx.AsyncClient) -> None:
    """Starlette builds the redirect from the Host header: a poisoned cache or a link through a
    misrouting proxy would send the client elsewhere. The Location is a path only."""
    for prefix in DEFAULT_PREFIXES:
        answer = await client.get(f"{prefix}/.well-known/jwks.json/?x=1", headers={"host": "evil.example"})
        assert answer.status_code == 307
        assert answer.headers["location"] == f"{prefix}/.well-known/jwks.json?x=1"
    for sneaky in ("//evil.example/", "/%2F/evil.example/", "/nothing-here/"):
        answer = await client.get(sneaky, headers={"host": "evil.example"})
        assert answer.status_code == 404 and "location" not in answer.headers


@pytest.mark.parametrize(
    "body",
    [
        '{"email": "ada@example.com", "password": "x", "email": "eve@example.com"}',
        '{"email": "ada@example.com", "password": "x", "options": {"a": 1, "a": 2}}',
    ],
    ids=["top_level", "nested"],
)
async def test_duplicate_json_keys_are_refused(client: httpx.AsyncClient, body: str) -> None:
    """Parsers disagree on a repeated key (first or last wins): a proxy or WAF that checks one
    copy while we use the other would be fooled. It is a 400, before any lookup or hash."""
    answer = await client.post("/login", content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 400
    problem = answer.json()
    assert problem["code"] == "validation_failed"
    assert problem["errors"][0]["field"] == "body" and "more than once" in problem["errors"][0]["message"]


async def test_deeply_nested_json_is_a_400(client: httpx.AsyncClient) -> None:
    for body in ("[" * 20_000, '{"a":' * 10_000 + "1" + "}" * 10_000):
        answer = await client.post("/register", content=body, headers={"content-type": "application/json"})
        assert answer.status_code == 400 and answer.json()["code"] == "validation_failed"


async def test_database_error_is_logged_without_its_values(
    client: httpx.AsyncClient, backend: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A failing statement's error carries the statement, and on PostgreSQL a message that can
    quote the row (here a trigger names the new password hash). The log gets the error's
    classes and our line it came through; no statement, no value, no traceback."""
    if backend == "postgres":
        await sql(
            client,
            "CREATE FUNCTION leak() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION 'refused % %', NEW.email, NEW.password_hash; END $$ LANGUAGE plpgsql",
        )
        await sql(client, "CREATE TRIGGER leak BEFORE INSERT ON users FOR EACH ROW EXECUTE FUNCTION leak()")
    else:
        await sql(client, "ALTER TABLE users RENAME COLUMN password_hash TO refused")
    capsys.readouterr()
    try:
        answer = await client.post("/register", json={"email": "ada@example.com", "password": STRONG_PASSWORD})
    finally:
        if backend == "postgres":
            await sql(client, "DROP TRIGGER leak ON users")
            await sql(client, "DROP FUNCTION leak()")
        else:
            await sql(client, "ALTER TABLE users RENAME COLUMN refused TO password_hash")
    assert answer.status_code == 500
    assert answer.json() == {
        "type": "https://authgate.dev/problems/internal-error",
        "title": "Internal error",
        "status": 500,
        "detail": "Something went wrong on our side.",
        "code": "internal_error",
    }
    captured = capsys.readouterr()
    log = captured.out + captured.err
    assert "unhandled_error" in log and "raised_in=" in log and "Error" in log
    for leak in ("ada@example.com", "$2b$", "INSERT", "Traceback", "refused", json.dumps(STRONG_PASSWORD)[1:-1]):
        assert leak not in log, leak
