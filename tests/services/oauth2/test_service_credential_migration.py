"""Migration 0016 moves every service credential into `oauth_clients` as a service client: one
made before the upgrade keeps its id, its secret, its name and dates, and its revocation."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from authgate.security.opaque import digest, random_token
from authgate.storage.migrate import upgrade
from authgate.storage.models import UTCDateTime
from tests.support.app import ClientFactory
from tests.support.http import admin_token, bearer
from tests.support.introspection import Credential, answer, assert_invalid_client, introspect, signed_in

# `service_credentials` as revision 0010 made it (it is gone after 0016).
SERVICE_CREDENTIALS = sa.Table(
    "service_credentials",
    sa.MetaData(),
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("name", sa.String(100)),
    sa.Column("secret_hash", sa.String(64)),
    sa.Column("created_at", UTCDateTime()),
    sa.Column("last_used_at", UTCDateTime()),
    sa.Column("revoked_at", UTCDateTime()),
)
MADE = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
USED = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


async def test_a_service_credential_made_before_0016_keeps_working_after_it(
    migration_engine: AsyncEngine, make_client: ClientFactory
) -> None:
    await upgrade(migration_engine, "0015")
    billing = Credential(str(uuid.uuid4()), "agsvc_" + random_token(32))
    old = Credential(str(uuid.uuid4()), "agsvc_" + random_token(32))
    async with migration_engine.begin() as conn:
        await conn.execute(
            sa.insert(SERVICE_CREDENTIALS),
            [
                {
                    "id": billing.client_id,
                    "name": "billing",
                    "secret_hash": digest(billing.secret),
                    "created_at": MADE,
                    "last_used_at": USED,
                    "revoked_at": None,
                },
                {
                    "id": old.client_id,
                    "name": "old-crm",
                    "secret_hash": digest(old.secret),
                    "created_at": MADE,
                    "last_used_at": None,
                    "revoked_at": USED,
                },
            ],
        )

    await upgrade(migration_engine)

    url = migration_engine.url.render_as_string(hide_password=False)
    async with make_client(database_url=url) as client:
        token = (await signed_in(client))["accessToken"]
        assert (await answer(client, billing, token))["active"] is True
        assert_invalid_client(await introspect(client, old, token))  # revoked before: still revoked
        assert_invalid_client(await introspect(client, Credential(billing.client_id, old.secret), token))

        admin = await admin_token(client)
        shown = {c["clientId"]: c for c in (await client.get("/oauth2/clients", headers=bearer(admin))).json()["items"]}
        assert set(shown) == {billing.client_id, old.client_id}
        moved = shown[billing.client_id]
        assert moved["kind"] == "service" and moved["name"] == "billing" and moved["firstParty"] is False
        assert moved["grantTypes"] == ["client_credentials"] and moved["scopes"] == []
        assert moved["redirectUris"] == [] and moved["accessTokenAudience"] == billing.client_id
        assert moved["createdAt"] == "2026-03-01T09:30:00.000Z" and moved["revokedAt"] is None
        assert moved["lastUsedAt"] is not None
        assert shown[old.client_id]["revokedAt"] == "2026-03-02T12:00:00.000Z"

        # A new secret for the old credential, through the client API: the one it had stops.
        rotated = await client.post(f"/oauth2/clients/{billing.client_id}/secret", headers=bearer(admin))
        assert rotated.status_code == 200, rotated.text
        assert rotated.json()["clientSecret"].startswith("agsvc_")
        assert_invalid_client(await introspect(client, billing, token))
        fresh = Credential(billing.client_id, rotated.json()["clientSecret"])
        assert (await answer(client, fresh, token))["active"] is True
