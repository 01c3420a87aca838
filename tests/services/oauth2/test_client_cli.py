"""`authgate client …`, run as the real command: what it prints (the `client_id:` and
`client_secret:` lines scripts read), what it stores, and how it refuses a bad value."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

import httpx
import pytest

from authgate.errors import AuthError
from authgate.security.opaque import digest
from authgate.services.oauth2 import clients
from tests.support.app import runtime, sql
from tests.support.server import run_authgate

pytestmark = pytest.mark.slow  # real processes

WEB = "https://billing.example.com/callback"


async def cli(database_url: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(run_authgate, cwd, *args, AUTHGATE_DATABASE_URL=database_url)


def printed(result: subprocess.CompletedProcess[str]) -> dict[str, str]:
    """The `name: value` lines of a command that made a client or a secret."""
    assert result.returncode == 0, result.stderr
    lines = [line.split(":", 1) for line in result.stdout.splitlines() if line.startswith("client_")]
    return {name: value.strip() for name, value in lines}


def listed(result: subprocess.CompletedProcess[str]) -> dict[str, list[str]]:
    """`authgate client list`'s rows by client id: name, kind, first party, scopes, created,
    last used, revoked."""
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ID", "NAME", "KIND", "FIRST-PARTY", "SCOPES", "CREATED", "LAST", "USED", "REVOKED"]
    return {line.split()[0]: line.split()[1:] for line in lines[1:]}


async def authenticates(client: httpx.AsyncClient, client_id: str, secret: str | None) -> bool:
    try:
        await clients.authenticate_client(runtime(client), client_id=client_id, secret=secret)
    except AuthError:
        return False
    return True


async def test_the_client_commands_create_list_rotate_and_revoke(
    client: httpx.AsyncClient, database_url: str, tmp_path: Path
) -> None:
    made = await cli(
        database_url,
        tmp_path,
        "client",
        "create",
        "--name",
        "billing-web",
        "--redirect-uri",
        WEB,
        "--redirect-uri",
        "http://localhost:3000/callback",
        "--post-logout-redirect-uri",
        "https://billing.example.com/",
        "--scopes",
        "openid,profile offline_access  invoices:read",
        "--client-credentials",
    )
    app = printed(made)
    assert set(app) == {"client_id", "client_secret"} and len(app["client_id"]) == 36
    assert app["client_secret"].startswith("agcs_") and len(app["client_secret"]) == len("agcs_") + 43
    assert "will not be shown again" in made.stdout
    assert await authenticates(client, app["client_id"], app["client_secret"])
    row = await clients.get(runtime(client), client_id=app["client_id"])
    assert clients.redirect_uris(row) == [WEB, "http://localhost:3000/callback"]
    assert clients.post_logout_redirect_uris(row) == ["https://billing.example.com/"]
    assert clients.scopes_of(row) == ["openid", "profile", "offline_access", "invoices:read"]
    assert clients.allows_grant(row, "client_credentials") and row.kind == "confidential" and not row.first_party
    assert row.secret_hash == digest(app["client_secret"])

    spa_made = await cli(
        database_url,
        tmp_path,
        "client",
        "create",
        "--name",
        "portal",
        "--redirect-uri",
        WEB,
        "--public",
        "--first-party",
    )
    spa = printed(spa_made)
    assert set(spa) == {"client_id"} and "no secret" in spa_made.stdout  # a public client has none
    service = printed(await cli(database_url, tmp_path, "client", "create", "--name", "billing", "--scopes", "a:b"))
    assert service["client_secret"].startswith("agsvc_")

    rows = listed(await cli(database_url, tmp_path, "client", "list"))
    assert rows[app["client_id"]][:4] == [
        "billing-web",
        "confidential",
        "no",
        "openid,profile,offline_access,invoices:read",
    ]
    assert rows[app["client_id"]][5:] == [rows[app["client_id"]][5], "-"] and rows[app["client_id"]][5].endswith("Z")
    assert rows[spa["client_id"]][:4] == ["portal", "public", "yes", "openid,profile,email"]
    assert rows[spa["client_id"]][5:] == ["never", "-"]
    assert rows[service["client_id"]][:4] == ["billing", "service", "no", "a:b"]
    services = await cli(database_url, tmp_path, "service", "list")  # the short form: service clients only
    assert [line.split()[0] for line in services.stdout.splitlines()[1:]] == [service["client_id"]]
    assert services.stdout.splitlines()[0].split() == ["ID", "NAME", "CREATED", "LAST", "USED", "REVOKED"]

    rotated = printed(await cli(database_url, tmp_path, "client", "secret", app["client_id"]))
    assert rotated["client_id"] == app["client_id"] and rotated["client_secret"].startswith("agcs_")
    assert not await authenticates(client, app["client_id"], app["client_secret"])
    assert await authenticates(client, app["client_id"], rotated["client_secret"])
    no_secret = await cli(database_url, tmp_path, "client", "secret", spa["client_id"])
    assert no_secret.returncode == 1 and no_secret.stderr.startswith("authgate: conflict: ")

    revoked = await cli(database_url, tmp_path, "client", "revoke", app["client_id"])
    assert revoked.returncode == 0, revoked.stderr
    assert revoked.stdout.strip() == f"authgate: client {app['client_id']} (billing-web) revoked"
    assert not await authenticates(client, app["client_id"], rotated["client_secret"])
    assert listed(await cli(database_url, tmp_path, "client", "list"))[app["client_id"]][-1].endswith("Z")
    again = await cli(database_url, tmp_path, "client", "revoke", app["client_id"])
    assert again.stdout.strip() == f"authgate: client {app['client_id']} (billing-web) was already revoked"
    unknown = await cli(database_url, tmp_path, "client", "revoke", "no-such-id")
    assert unknown.returncode == 1 and unknown.stderr.startswith("authgate: not_found: ")

    secrets = (app["client_secret"], rotated["client_secret"], service["client_secret"])
    audit = json.dumps([list(map(str, r)) for r in await sql(client, "SELECT * FROM audit_log")])
    assert not any(secret in audit or secret.split("_", 1)[1] in audit for secret in secrets)
    types = [r[0] for r in await sql(client, "SELECT type FROM audit_log ORDER BY seq")]
    assert types == [
        "oauth2_client.created",
        "oauth2_client.created",
        "service_credential.created",
        "oauth2_client.secret_rotated",
        "oauth2_client.revoked",
    ]


async def test_a_bad_value_exits_2_naming_the_field(
    client: httpx.AsyncClient, database_url: str, tmp_path: Path
) -> None:
    cases = [
        (["--redirect-uri", WEB, "--public", "--client-credentials"], "clientCredentials"),
        (["--public"], "redirectUris"),
        (["--first-party"], "firstParty"),  # a service client
        (["--redirect-uri", "http://billing.example.com/callback"], "redirectUris.0"),
        (["--scopes", "openid"], "scopes"),  # a service client: custom scopes only
    ]
    for extra, field in cases:
        result = await cli(database_url, tmp_path, "client", "create", "--name", "billing", *extra)
        assert result.returncode == 2, (extra, result.stdout, result.stderr)
        assert result.stderr.startswith(f"authgate: validation_failed: {field}: "), (extra, result.stderr)
        assert "client_id" not in result.stdout
    assert (await sql(client, "SELECT COUNT(*) FROM oauth_clients"))[0][0] == 0
