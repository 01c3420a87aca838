"""bench/seed.py writes users and sessions in bulk, straight into the database, for the scale
benchmark: the rows must be ones authgate itself reads as real, on both databases, and a
second call must grow the tables without touching the rows already there. The authorization
codes it writes for the token endpoint's benchmark must be exchanged as issued ones are."""

from __future__ import annotations

import asyncio
import sys

from authgate.security.hashing import HashPolicy
from tests.support.app import ClientFactory
from tests.support.paths import ROOT
from tests.support.provider_flow import APP, admin_token, exchange, id_claims, new_client, pkce, provider

sys.path.insert(0, str(ROOT / "bench"))
import seed  # bench/ is not a package: its directory is put on the path above


async def test_seeded_users_sign_in_and_seeded_sessions_refresh_like_real_ones(
    database_url: str, make_client: ClientFactory
) -> None:
    password_hash = HashPolicy(bcrypt_rounds=4).make(seed.SEED_PASSWORD)
    await asyncio.to_thread(seed.seed, database_url, users=30, sessions=30, password_hash=password_hash)
    await asyncio.to_thread(seed.seed, database_url, users=45, sessions=40, password_hash=password_hash)
    async with make_client() as client:
        signed_in = await client.post("/login", json={"email": seed.seed_email(44), "password": seed.SEED_PASSWORD})
        assert signed_in.status_code == 200, signed_in.text
        assert signed_in.json()["user"]["email"] == seed.seed_email(44)

        refreshed = await client.post("/refresh", json={"refreshToken": seed.seed_refresh_token(39)})
        assert refreshed.status_code == 200, refreshed.text
        profile = await client.get("/profile", headers={"Authorization": f"Bearer {refreshed.json()['token']}"})
        assert profile.status_code == 200
        assert profile.json()["email"] == seed.seed_email(39)

        # A seeded session from the first call still refreshes: growing kept it.
        assert (await client.post("/refresh", json={"refreshToken": seed.seed_refresh_token(0)})).status_code == 200
        # No session was seeded for user 44, and nothing beyond the 45th user exists.
        unknown = await client.post("/refresh", json={"refreshToken": seed.seed_refresh_token(40)})
        assert unknown.status_code == 401
        nobody = await client.post("/login", json={"email": seed.seed_email(45), "password": seed.SEED_PASSWORD})
        assert nobody.status_code == 401


async def test_seeded_codes_are_exchanged_at_the_token_endpoint_like_issued_ones(
    database_url: str, make_client: ClientFactory
) -> None:
    password_hash = HashPolicy(bcrypt_rounds=4).make(seed.SEED_PASSWORD)
    await asyncio.to_thread(seed.seed, database_url, users=3, sessions=3, password_hash=password_hash)
    verifier, challenge = pkce()
    async with provider(make_client) as client:
        app = await new_client(client, await admin_token(client), scopes=["openid", "email"])
        await asyncio.to_thread(
            seed.seed_codes,
            database_url,
            client_id=app["clientId"],
            redirect_uri=APP,
            challenge=challenge,
            scopes=["openid", "email"],
            first=0,
            count=5,
            sessions=3,
        )
        answer = await exchange(client, app, seed.seed_code(4), verifier)
        assert answer.status_code == 200, answer.text
        claims = await id_claims(client, answer.json()["id_token"])
        assert claims["email"] == seed.seed_email(1) and claims["nonce"] == "bench-nonce-4"  # session 4 % 3
        assert claims["sid"] == seed.SESSION_ID + "000000000001" and claims["amr"] == ["pwd"]
        assert answer.json()["scope"] == "openid email" and "refresh_token" in answer.json()

        again = await exchange(client, app, seed.seed_code(4), verifier)
        assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
        wrong = await exchange(client, app, seed.seed_code(3), "a" * 43)
        assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
        unseeded = await exchange(client, app, seed.seed_code(5), verifier)
        assert unseeded.status_code == 400 and unseeded.json()["error"] == "invalid_grant"
