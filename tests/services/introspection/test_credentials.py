"""Service credentials: who may introspect, how the secret is kept, and the CLI that manages them."""

from __future__ import annotations

import asyncio
import base64
import hmac
import json
import subprocess
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from authgate.errors import AuthError
from authgate.security.opaque import digest
from authgate.services import service_credentials
from authgate.services.oauth2 import clients
from authgate.storage.models import OAuthClient as ServiceCredential
from authgate.storage.models import utcnow
from tests.support.app import runtime, sql
from tests.support.introspection import (
    PATH,
    Credential,
    answer,
    assert_invalid_client,
    introspect,
    new_credential,
    signed_in,
)
from tests.support.server import run_authgate


def basic(raw: bytes) -> dict[str, str]:
    return {"Authorization": f"Basic {base64.b64encode(raw).decode()}"}


async def test_a_caller_without_a_valid_credential_is_refused(client: httpx.AsyncClient) -> None:
    credential = await new_credential(client)
    token = (await signed_in(client))["accessToken"]
    wrong = Credential(credential.client_id, credential.secret[:-1] + ("A" if credential.secret[-1] != "A" else "B"))
    unknown = Credential("00000000-0000-0000-0000-000000000000", credential.secret)
    for form in (True, False):
        for use_basic in (True, False):
            for caller in (wrong, unknown, None):
                assert_invalid_client(await introspect(client, caller, token, form=form, basic=use_basic))
    attempts: list[dict[str, Any]] = [
        {"headers": basic(credential.client_id.encode())},  # no colon
        {"headers": {"Authorization": "Basic !!!not-base64!!!"}},
        {"headers": basic(b"\xff\xfe:\xff")},  # not UTF-8
        {"headers": basic(f"{credential.client_id}:".encode())},  # empty secret
        {"headers": basic(b":" + credential.secret.encode())},  # empty id
        {"headers": basic(b"id\x00:" + credential.secret.encode())},  # a NUL byte never reaches the database
        {"headers": basic(b"x" * 5000 + b":" + credential.secret.encode())},
        {"headers": {"Authorization": "Bearer " + token}},  # only Basic or body credentials
        {"data": {"client_id": credential.client_id}},  # no secret
        {"data": {"client_secret": credential.secret}},  # no id
        {"data": {"client_id": "\x00", "client_secret": credential.secret}},
        {"data": credential.fields, "headers": credential.basic},  # two ways at once
    ]
    for attempt in attempts:
        data = {"token": token, **attempt.get("data", {})}
        assert_invalid_client(await client.post(PATH, data=data, headers=attempt.get("headers", {})))
    assert (await answer(client, credential, token))["active"] is True


async def test_basic_credentials_are_form_urlencoded_and_may_be_sent_raw(client: httpx.AsyncClient) -> None:
    """RFC 6749 §2.3.1 form-urlencodes both parts; ours never hold a character that changes."""
    credential = await new_credential(client)
    token = (await signed_in(client))["accessToken"]
    raw = f"{credential.client_id}:{credential.secret}".encode()
    response = await client.post(PATH, data={"token": token}, headers=basic(raw))
    assert response.status_code == 200 and response.json()["active"] is True
    encoded = await client.post(PATH, data={"token": token}, headers=credential.basic)
    assert encoded.status_code == 200 and encoded.json()["active"] is True
    lower = {"Authorization": credential.basic["Authorization"].replace("Basic", "basic", 1)}
    assert (await client.post(PATH, data={"token": token}, headers=lower)).status_code == 200


async def test_a_revoked_credential_is_refused_at_once(client: httpx.AsyncClient) -> None:
    credential = await new_credential(client)
    other = await new_credential(client, "crm")
    token = (await signed_in(client))["accessToken"]
    assert (await answer(client, credential, token))["active"] is True
    revoked, changed = await service_credentials.revoke(runtime(client), credential_id=credential.client_id)
    assert changed and revoked.revoked_at is not None
    assert_invalid_client(await introspect(client, credential, token))
    assert_invalid_client(await introspect(client, credential, token, basic=False, form=False))
    assert (await answer(client, other, token))["active"] is True  # the others still work
    again, changed = await service_credentials.revoke(runtime(client), credential_id=credential.client_id)
    assert not changed and again.revoked_at == revoked.revoked_at


async def test_the_secret_is_kept_only_as_its_digest(client: httpx.AsyncClient) -> None:
    credential = await new_credential(client, "  billing  ")
    assert credential.secret.startswith("agsvc_") and len(credential.secret) == len("agsvc_") + 43
    rows = await sql(client, "SELECT id, name, secret_hash FROM oauth_clients")
    assert [tuple(r) for r in rows] == [(credential.client_id, "billing", digest(credential.secret))]
    everything = json.dumps([list(map(str, r)) for r in await sql(client, "SELECT * FROM oauth_clients")])
    audit = json.dumps([list(map(str, r)) for r in await sql(client, "SELECT * FROM audit_log")])
    assert credential.secret not in everything + audit
    assert credential.secret.removeprefix("agsvc_") not in everything + audit
    second = await new_credential(client, "billing")
    assert second.client_id != credential.client_id and second.secret != credential.secret


async def test_creating_and_revoking_are_audited(client: httpx.AsyncClient) -> None:
    credential = await new_credential(client)
    await service_credentials.revoke(runtime(client), credential_id=credential.client_id)
    await service_credentials.revoke(runtime(client), credential_id=credential.client_id)  # nothing changes
    rows = await sql(client, "SELECT type, user_id, data FROM audit_log ORDER BY seq")
    assert [(r[0], r[1], json.loads(r[2])) for r in rows] == [
        ("service_credential.created", None, {"credential": credential.client_id, "name": "billing"}),
        ("service_credential.revoked", None, {"credential": credential.client_id, "name": "billing"}),
    ]


async def test_a_name_is_required_and_an_unknown_id_cannot_be_revoked(client: httpx.AsyncClient) -> None:
    for name in ("", "   ", "x" * 101, "bad\x00name", "rtl\u202ename"):
        with pytest.raises(AuthError) as refused:
            await service_credentials.create(runtime(client), name=name)
        assert refused.value.code == "validation_failed"
    with pytest.raises(AuthError) as missing:
        await service_credentials.revoke(runtime(client), credential_id="nope")
    assert missing.value.code == "not_found"
    assert (await sql(client, "SELECT COUNT(*) FROM oauth_clients"))[0][0] == 0


async def test_last_use_is_recorded_at_most_once_a_minute(client: httpx.AsyncClient) -> None:
    credential = await new_credential(client)
    token = (await signed_in(client))["accessToken"]

    async def last_used() -> Any:
        rows = await sql(client, "SELECT last_used_at FROM oauth_clients WHERE id = :i", i=credential.client_id)
        return rows[0][0]

    assert await last_used() is None
    await answer(client, credential, token)
    first = await last_used()
    assert first is not None
    for _ in range(3):
        await answer(client, credential, token)
    assert await last_used() == first  # not a write per request
    listed = await service_credentials.list_credentials(runtime(client))
    assert listed[0].last_used_at is not None and utcnow() - listed[0].last_used_at < timedelta(seconds=30)

    stale = utcnow() - timedelta(minutes=2)
    await sql(
        client,
        update(ServiceCredential).where(ServiceCredential.id == credential.client_id).values(last_used_at=stale),
    )
    await answer(client, credential, token)
    assert await last_used() != first
    assert_invalid_client(await introspect(client, Credential(credential.client_id, "wrong"), token))


async def test_an_unknown_client_id_costs_the_same_work_as_a_known_one(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counted, not timed: one lookup, one digest of the presented secret and one
    constant-time comparison of equal-length digests, whether or not the id exists."""
    credential = await new_credential(client)
    calls: list[str] = []

    def counting(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            calls.append(name if name != "compare" else f"compare:{len(args[0])}:{len(args[1])}")
            return fn(*args, **kwargs)

        return wrapper

    async def lookup(*args: Any, **kwargs: Any) -> Any:
        calls.append("lookup")
        return await real_get(*args, **kwargs)

    # The check is the clients' own (services/oauth2/clients.py), which service credentials are.
    real_get = clients.client_repo.get
    monkeypatch.setattr(clients.client_repo, "get", lookup)
    monkeypatch.setattr(clients, "digest", counting("digest", digest))
    monkeypatch.setattr(clients.hmac, "compare_digest", counting("compare", hmac.compare_digest))

    async def work(client_id: str) -> list[str]:
        calls.clear()
        with pytest.raises(AuthError):
            await service_credentials.authenticate(runtime(client), client_id=client_id, secret="agsvc_wrong")
        return list(calls)

    known = await work(credential.client_id)
    assert known == ["lookup", "digest", "compare:43:43"]
    assert await work("00000000-0000-0000-0000-000000000000") == known


# --- the command line ---------------------------------------------------------------------------


async def cli(database_url: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(run_authgate, cwd, *args, AUTHGATE_DATABASE_URL=database_url)


def listed(result: subprocess.CompletedProcess[str]) -> dict[str, list[str]]:
    """`authgate service list`'s rows by client id: name, created, last used, revoked."""
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ID", "NAME", "CREATED", "LAST", "USED", "REVOKED"]
    return {line.split()[0]: line.split()[1:] for line in lines[1:]}


async def test_the_service_commands_create_list_and_revoke(
    client: httpx.AsyncClient, database_url: str, tmp_path: Path
) -> None:
    created = await cli(database_url, tmp_path, "service", "create", "--name", "billing")
    assert created.returncode == 0, created.stderr
    values = dict(line.split(":", 1) for line in created.stdout.splitlines()[:2])
    credential = Credential(values["client_id"].strip(), values["client_secret"].strip())
    assert credential.secret.startswith("agsvc_")
    assert "will not be shown again" in created.stdout

    before = listed(await cli(database_url, tmp_path, "service", "list"))
    assert before[credential.client_id][0] == "billing" and before[credential.client_id][2:] == ["never", "-"]
    assert credential.secret not in str(before)

    token = (await signed_in(client))["accessToken"]
    assert (await answer(client, credential, token))["active"] is True
    used = listed(await cli(database_url, tmp_path, "service", "list"))[credential.client_id]
    assert used[2].endswith("Z") and used[3] == "-"

    revoked = await cli(database_url, tmp_path, "service", "revoke", credential.client_id)
    assert revoked.returncode == 0, revoked.stderr
    assert f"{credential.client_id} (billing) revoked" in revoked.stdout
    assert_invalid_client(await introspect(client, credential, token))
    assert listed(await cli(database_url, tmp_path, "service", "list"))[credential.client_id][3].endswith("Z")

    unknown = await cli(database_url, tmp_path, "service", "revoke", "no-such-id")
    assert unknown.returncode == 1 and "not_found" in unknown.stderr
    nameless = await cli(database_url, tmp_path, "service", "create", "--name", " ")
    assert nameless.returncode == 1 and "name" in nameless.stderr
