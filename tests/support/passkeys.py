"""Driving the passkey endpoints over HTTP with the software authenticator of
tests/support/webauthn.py: adding a passkey to a signed-in account, signing in with one, and
reading what the database, the audit trail and the event outbox hold about passkeys."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
from sqlalchemy import update

from authgate.storage.models import OneTimeSecret
from tests.support.app import sql
from tests.support.http import bearer, register
from tests.support.mfa import MfaAccount, enrol
from tests.support.webauthn import Credential, SoftAuthenticator

PASSKEY_FIELDS = {
    "id",
    "name",
    "credentialId",
    "createdAt",
    "lastUsedAt",
    "transports",
    "aaguid",
    "backupEligible",
    "backedUp",
}
ZERO_AAGUID = "00000000-0000-0000-0000-000000000000"


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    assert body["status"] == status
    return body


def claims(token: str) -> dict[str, Any]:
    """An access token's claims, read without checking its signature (the server did)."""
    decoded: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return decoded


@dataclass
class Account:
    """A registered, signed-in account and the authenticator its owner uses."""

    email: str
    user_id: str
    token: str
    device: SoftAuthenticator

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.token)


async def account(client: httpx.AsyncClient, email: str = "ada@example.com", **extra: Any) -> Account:
    body = (await register(client, email=email, **extra)).json()
    client.cookies.clear()
    return Account(email, body["user"]["id"], body["accessToken"], SoftAuthenticator())


# --- adding a passkey ---------------------------------------------------------------------------


async def register_options(client: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> httpx.Response:
    return await client.post("/passkeys/register/options", headers=headers, json=body or None)


async def begin(client: httpx.AsyncClient, headers: dict[str, str], **proof: Any) -> dict[str, Any]:
    """`POST /passkeys/register/options`, expected to answer 200: `{challengeId, options, expiresAt}`."""
    response = await register_options(client, headers, **proof)
    assert response.status_code == 200, response.text
    started: dict[str, Any] = response.json()
    return started


async def finish(
    client: httpx.AsyncClient, headers: dict[str, str], challenge_id: str, credential: dict[str, Any], **extra: Any
) -> httpx.Response:
    return await client.post(
        "/passkeys/register/verify",
        headers=headers,
        json={"challengeId": challenge_id, "credential": credential, **extra},
    )


async def add_passkey(
    client: httpx.AsyncClient,
    who: Account,
    device: SoftAuthenticator | None = None,
    *,
    name: str | None = None,
    proof: dict[str, Any] | None = None,
    **knobs: Any,
) -> dict[str, Any]:
    """A new passkey on `who`'s account, made by `device` (theirs by default): the 201 answer."""
    device = device or who.device
    started = await begin(client, who.headers, **(proof or {}))
    extra = {"name": name} if name is not None else {}
    made = await finish(
        client, who.headers, started["challengeId"], device.create(started["options"], **knobs), **extra
    )
    assert made.status_code == 201, made.text
    passkey: dict[str, Any] = made.json()
    return passkey


async def passkeys_of(client: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = await client.get("/passkeys", headers=headers)
    assert response.status_code == 200, response.text
    listed: list[dict[str, Any]] = response.json()
    return listed


async def mfa_account_with_passkey(
    client: httpx.AsyncClient, email: str = "ada@example.com", device: SoftAuthenticator | None = None
) -> tuple[MfaAccount, SoftAuthenticator]:
    """An account with TOTP on (tests/support/mfa.py) and a passkey, added with a current code."""
    mfa = await enrol(client, email=email)
    device = device or SoftAuthenticator()
    who = Account(mfa.email, mfa.user_id, mfa.token, device)
    await add_passkey(client, who, proof={"mfaCode": await mfa.app.code()})
    return mfa, device


# --- signing in with one -------------------------------------------------------------------------


async def login_options(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.post("/passkeys/login/options")
    assert response.status_code == 200, response.text
    started: dict[str, Any] = response.json()
    return started


async def login_verify(
    client: httpx.AsyncClient, challenge_id: str, credential: dict[str, Any], **body: Any
) -> httpx.Response:
    return await client.post(
        "/passkeys/login/verify", json={"challengeId": challenge_id, "credential": credential, **body}
    )


async def passkey_login(
    client: httpx.AsyncClient,
    device: SoftAuthenticator,
    credential: Credential | str | None = None,
    *,
    set_cookie: bool = False,
    **knobs: Any,
) -> httpx.Response:
    """A whole discoverable sign-in: fresh options, the device's assertion, the verify answer."""
    started = await login_options(client)
    assertion = device.get(started["options"], credential=credential, **knobs)
    return await login_verify(client, started["challengeId"], assertion, options={"setCookie": set_cookie})


async def mfa_options(client: httpx.AsyncClient, mfa_token: str) -> httpx.Response:
    return await client.post("/mfa/passkey/options", json={"mfaToken": mfa_token})


async def mfa_with_passkey(
    client: httpx.AsyncClient, mfa_token: str, device: SoftAuthenticator, **knobs: Any
) -> httpx.Response:
    """The second step answered by a passkey: options for the mfaToken, then `/mfa/verify`."""
    started = await mfa_options(client, mfa_token)
    assert started.status_code == 200, started.text
    body = started.json()
    assertion = device.get(body["options"], **knobs)
    return await client.post(
        "/mfa/verify", json={"mfaToken": mfa_token, "challengeId": body["challengeId"], "credential": assertion}
    )


# --- behind the API ------------------------------------------------------------------------------


async def audit(client: httpx.AsyncClient, type_: str, user_id: str | None = None) -> list[dict[str, Any]]:
    """Audit entries of one type (oldest first): `{user, actor, data}`."""
    query = "SELECT user_id, actor_id, data FROM audit_log WHERE type = :t"
    params: dict[str, Any] = {"t": type_}
    if user_id is not None:
        query += " AND user_id = :u"
        params["u"] = user_id
    rows = await sql(client, query + " ORDER BY seq", **params)
    return [{"user": r[0], "actor": r[1], "data": json.loads(r[2]) if r[2] else {}} for r in rows]


async def events(client: httpx.AsyncClient, type_: str) -> list[dict[str, Any]]:
    """The data of each event of one type in the outbox, oldest first."""
    rows = await sql(client, "SELECT data FROM events WHERE type = :t ORDER BY at", t=type_)
    return [json.loads(r[0]) for r in rows]


async def stored(client: httpx.AsyncClient, credential_id: str) -> dict[str, Any] | None:
    """The stored row of a passkey, by its credential id (base64url)."""
    rows = await sql(
        client,
        "SELECT id, user_id, sign_count, backup_eligible, backed_up, name, last_used_at, public_key "
        "FROM passkeys WHERE credential_id = :c",
        c=credential_id,
    )
    if not rows:
        return None
    r = rows[0]
    return {
        "id": r[0],
        "user_id": r[1],
        "sign_count": r[2],
        "backup_eligible": bool(r[3]),
        "backed_up": bool(r[4]),
        "name": r[5],
        "last_used_at": r[6],
        "public_key": r[7],
    }


async def passkey_count(client: httpx.AsyncClient, user_id: str | None = None) -> int:
    if user_id is None:
        rows = await sql(client, "SELECT count(*) FROM passkeys")
    else:
        rows = await sql(client, "SELECT count(*) FROM passkeys WHERE user_id = :u", u=user_id)
    return int(rows[0][0])


async def expire_challenges(client: httpx.AsyncClient, purpose: str) -> None:
    """Age every WebAuthn challenge of `purpose` past its end."""
    past = datetime.now(UTC) - timedelta(minutes=1)
    await sql(client, update(OneTimeSecret).where(OneTimeSecret.purpose == purpose).values(expires_at=past))
