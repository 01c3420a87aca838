"""panva's openid-client (Node, v6, pinned by package-lock.json here) as an app that signs its
users in through a real authgate. `rp.mjs` runs in phases: it builds the authorization URL (PKCE
S256, state, nonce), the test walks the browser through the hosted sign-in and consent pages, and
it takes the redirect back with its strict checks (PKCE, state, nonce, the response's `iss`, the
ID token's signature and claims), then userinfo, refresh, revocation, and signs the browser out
(RP-initiated logout); a service gets a token by client credentials. On SQLite and PostgreSQL, one server each (conftest.py).

`npm ci` installs openid-client on first use (support/npm.py): without node, npm or the registry
the tests skip, saying why; in CI (`CI=true`) they fail."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support.npm import npm_ci
from tests.support.paths import ROOT
from tests.support.provider_flow import APP, follow_to_app, query_of
from tests.support.provider_server import RunningProvider, verified_jwt
from tests.support.server import PATIENCE
from tests.support.skip import skip_or_fail
from tests.support.ui import BROWSER

FOLDER = ROOT / "tests" / "interop"
BYE = "https://app.example.com/signed-out"
SCOPES = ["openid", "email", "profile", "offline_access"]
CROSS_SITE = {**BROWSER, "Sec-Fetch-Site": "cross-site"}  # a navigation the app started


@pytest.fixture(scope="module")
def rp() -> Path:
    """rp.mjs, with the openid-client the lock pins installed beside it."""
    if shutil.which("node") is None:
        skip_or_fail("node is not installed: the interoperability tests run openid-client (Node 20+)")
    npm_ci(FOLDER, "the interoperability tests run openid-client, from npm")
    return FOLDER / "rp.mjs"


def _phase(rp: Path, *args: str | Path) -> dict[str, Any]:
    done = subprocess.run(
        ["node", str(rp), *map(str, args)], cwd=rp.parent, capture_output=True, text=True, timeout=PATIENCE
    )
    assert done.returncode == 0, f"rp.mjs {args[0]} exited {done.returncode}:\n{done.stderr}"
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _session(path: Path, provider: RunningProvider, app: dict[str, Any], auth: str, scope: str) -> Path:
    """The file rp.mjs reads the issuer and the client from (the secret stays off its command line)."""
    fields = {"issuer": provider.issuer, "clientId": app["clientId"], "auth": auth, "scope": scope}
    fields |= {"clientSecret": app.get("clientSecret"), "redirectUri": APP, "postLogoutRedirectUri": BYE}
    path.write_text(json.dumps(fields))
    return path


@pytest.mark.parametrize("auth", ["client_secret_basic", "client_secret_post", "none"])
async def test_an_app_signs_a_user_in_with_every_check(
    provider: RunningProvider, rp: Path, tmp_path: Path, auth: str
) -> None:
    app = provider.new_client(scopes=SCOPES, public=auth == "none", postLogoutRedirectUris=[BYE])
    email = provider.new_user()
    session = _session(tmp_path / "session.json", provider, app, auth, " ".join(SCOPES))

    url = _phase(rp, "authorize", session)["url"]
    saved = json.loads(session.read_text())
    asked = query_of(url)
    assert url.startswith(f"{provider.issuer}/oauth2/authorize?")
    assert asked["code_challenge_method"] == "S256" and asked["state"] == saved["state"]
    assert asked["nonce"] == saved["nonce"] and asked["redirect_uri"] == APP
    async with provider.browser() as browser:
        callback = await follow_to_app(browser, url, email=email)
        assert query_of(callback)["iss"] == provider.issuer
        result = _phase(rp, "callback", session, callback)

        assert result["issuer"] == provider.issuer
        assert result["tokenType"].lower() == "bearer" and set(result["scope"].split()) == set(SCOPES)
        assert result["expiresIn"] > 0
        claims = result["claims"]
        assert claims["iss"] == provider.issuer and claims["aud"] == app["clientId"]
        assert claims["azp"] == app["clientId"] and claims["nonce"] == saved["nonce"] and claims["email"] == email
        assert result["userinfo"]["sub"] == claims["sub"] and result["userinfo"]["email"] == email
        refreshed = result["refreshed"]
        assert refreshed["newRefreshToken"] and refreshed["claims"]["sub"] == claims["sub"]
        assert refreshed["claims"]["auth_time"] == claims["auth_time"] and "nonce" not in refreshed["claims"]
        # The provider's refusals, as openid-client reads them: a refresh token after its
        # revocation, and the code when it comes back.
        assert result["afterRevocation"]["error"] == "invalid_grant", result["afterRevocation"]
        assert result["replayed"]["error"] == "invalid_grant", result["replayed"]

        # The app signs the browser out with the URL openid-client builds: back to the app, with
        # its state; the next authorization asks for a sign-in again.
        signed_out = await browser.get(result["endSessionUrl"], headers=CROSS_SITE)
        assert signed_out.status_code == 302, signed_out.text
        assert signed_out.headers["location"] == f"{BYE}?state={result['logoutState']}"
        again = await browser.get(url, headers=CROSS_SITE)
        assert again.status_code == 302 and again.headers["location"].startswith("/ui/login?")


async def test_a_service_gets_a_token_by_client_credentials(
    provider: RunningProvider, rp: Path, tmp_path: Path
) -> None:
    service = provider.new_client(name="billing", redirectUris=[], scopes=["billing:read", "billing:write"])
    session = _session(tmp_path / "session.json", provider, service, "client_secret_basic", "billing:read")

    result = _phase(rp, "service", session)
    assert result["tokenType"].lower() == "bearer" and result["scope"] == "billing:read"
    assert result["refreshToken"] is None and result["idToken"] is None and result["expiresIn"] > 0
    header, claims = verified_jwt(provider.jwks(), result["accessToken"])
    assert header["typ"] == "at+jwt" and claims["iss"] == provider.issuer
    assert claims["sub"] == service["clientId"] and claims["client_id"] == service["clientId"]
    assert claims["scope"] == "billing:read"
