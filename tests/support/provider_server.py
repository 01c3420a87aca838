"""authgate as an OpenID provider in a real `authgate serve` (support/server.py), for the
relying-party libraries we did not write (tests/interop): its settings, an administrator made
with `authgate user create`, apps registered and accounts made over HTTP, a browser with a
cookie jar of its own for the hosted pages (`follow_to_app` walks it), and a token checked
against the provider's published keys."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.support.databases import fresh_pg_database
from tests.support.http import STRONG_PASSWORD, bearer
from tests.support.provider_flow import APP
from tests.support.server import PATIENCE, Server, run_authgate

PROVIDER_ENV = {"AUTHGATE_OIDC_PROVIDER": "on", "AUTHGATE_JWT_ALGORITHM": "RS256"}
ADMIN = "root@example.com"


@dataclass(frozen=True)
class RunningProvider:
    """The provider at `issuer` (`http://localhost:PORT`), with an administrator's token."""

    issuer: str
    admin: str

    def new_client(self, **fields: Any) -> dict[str, Any]:
        """An app registered through the admin API (a third-party one redirecting to APP unless
        `fields` say otherwise): its client object, with `clientSecret` unless public."""
        body = {"name": "Interop app", "redirectUris": [APP], **fields}
        made = httpx.post(f"{self.issuer}/oauth2/clients", json=body, headers=bearer(self.admin), timeout=PATIENCE)
        assert made.status_code == 201, made.text
        result: dict[str, Any] = made.json()
        return result

    def new_user(self) -> str:
        """A new account (a fresh address each time, password STRONG_PASSWORD): its email."""
        email = f"rp-{uuid.uuid4().hex[:12]}@example.com"
        made = httpx.post(
            f"{self.issuer}/register", json={"email": email, "password": STRONG_PASSWORD}, timeout=PATIENCE
        )
        assert made.status_code == 201, made.text
        return email

    def jwks(self) -> dict[str, Any]:
        """The provider's published keys."""
        keys: dict[str, Any] = httpx.get(f"{self.issuer}/.well-known/jwks.json", timeout=PATIENCE).json()
        return keys

    def browser(self) -> httpx.AsyncClient:
        """A browser of its own (its own cookie jar) on the provider; it follows no redirect by itself."""
        return httpx.AsyncClient(base_url=self.issuer, timeout=PATIENCE)


@contextmanager
def running_provider(workdir: Path, backend: str) -> Iterator[RunningProvider]:
    """`authgate serve` with the provider on, on `backend` (sqlite: a database in `workdir`;
    postgres: a new database, dropped afterwards, or skip_or_fail without a server)."""
    with ExitStack() as stack:
        env = dict(PROVIDER_ENV)
        if backend == "postgres":
            env["AUTHGATE_DATABASE_URL"] = stack.enter_context(fresh_pg_database("interop"))
        server = Server(workdir, name="provider", public_host="localhost", **env)
        stack.callback(server.stop)
        made = run_authgate(
            workdir, "user", "create", "--email", ADMIN, "--role", "admin", "--verified", "--password-stdin",
            stdin=STRONG_PASSWORD + "\n", AUTHGATE_PUBLIC_URL=server.base, **env,
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
        signed = httpx.post(
            f"{server.base}/login", json={"email": ADMIN, "password": STRONG_PASSWORD}, timeout=PATIENCE
        )
        assert signed.status_code == 200, signed.text
        yield RunningProvider(issuer=server.base, admin=str(signed.json()["token"]))


def verified_jwt(jwks: dict[str, Any], token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A token's (header, claims), its RS256 signature checked with joserfc against `jwks` (the
    provider's published set), by the key its `kid` names."""
    from joserfc import jwt
    from joserfc.jwk import KeySet

    decoded = jwt.decode(token, KeySet.import_key_set(jwks), algorithms=["RS256"])
    header = dict(decoded.header)
    assert header["alg"] == "RS256" and header["kid"] in {key["kid"] for key in jwks["keys"]}, header
    return header, dict(decoded.claims)
