"""Each hot request's cost against its budget in bench/budget.json, on each database.

Seconds move with the machine; what a request costs in Python function calls and database
statements does not (tests/support/cost.py). A request more than 3 % over its budget fails
here, naming both figures: either the change that made it dearer is undone, or the budget is
raised in bench/budget.json with the reason written in bench/RESULTS.md. A request more than
3 % under its budget fails too, so that a gain is written down and cannot be spent unseen.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

import httpx
import orjson
import pytest

from tests.support.app import ClientFactory
from tests.support.cost import Cost, Request, cost_of, counting
from tests.support.http import STRONG_PASSWORD, login, register
from tests.support.passkeys import Account, add_passkey, login_options
from tests.support.paths import ROOT
from tests.support.provider_flow import APP, admin_token, new_client, provider, signed_in_code
from tests.support.webauthn import SoftAuthenticator

BUDGET_FILE = ROOT / "bench" / "budget.json"
TOLERANCE = 0.03


def budget(backend: str) -> dict[str, dict[str, int]]:
    figures: dict[str, dict[str, int]] = json.loads(BUDGET_FILE.read_text())["requests"][backend]
    return figures


async def measure(client: httpx.AsyncClient) -> dict[str, Cost]:
    """The hot requests of a signed-in user, each costed on the same app."""
    app: Any = client.app  # type: ignore[attr-defined]
    await register(client)
    signed_in = (await login(client)).json()
    ada = Account("ada@example.com", signed_in["user"]["id"], signed_in["token"], SoftAuthenticator())
    await add_passkey(client, ada)
    bearer = ("authorization", f"Bearer {signed_in['token']}")
    tokens = {"refresh": signed_in["refreshToken"]}

    def fixed(request: Request) -> Callable[[], Awaitable[Request]]:
        async def make() -> Request:
            return request

        return make

    async def next_refresh() -> Request:
        # Each request rotates the token it brings: the next one takes the token from the
        # previous answer, read outside the measurement.
        response = await client.post("/refresh", json={"refreshToken": tokens["refresh"]})
        assert response.status_code == 200, response.text
        tokens["refresh"] = response.json()["refreshToken"]
        return Request("POST", "/refresh", (json_type,), orjson.dumps({"refreshToken": tokens["refresh"]}))

    async def next_passkey_sign_in() -> Request:
        # Each sign-in answers a challenge of its own, fetched outside the measurement.
        started = await login_options(client)
        answer = ada.device.get(started["options"])
        body = {"challengeId": started["challengeId"], "credential": answer, "options": {"setCookie": False}}
        return Request("POST", "/passkeys/login/verify", (json_type,), orjson.dumps(body))

    json_type = ("content-type", "application/json")
    credentials = orjson.dumps({"email": "ada@example.com", "password": STRONG_PASSWORD})
    runtime = app.state.runtime
    async with counting(runtime.engine, runtime.lane) as counter:
        return {
            "GET /healthz": await cost_of(app, counter, fixed(Request("GET", "/healthz"))),
            "GET /.well-known/jwks.json": await cost_of(app, counter, fixed(Request("GET", "/.well-known/jwks.json"))),
            "GET /profile": await cost_of(app, counter, fixed(Request("GET", "/api/auth/profile", (bearer,)))),
            "POST /refresh": await cost_of(app, counter, next_refresh),
            "POST /login": await cost_of(app, counter, fixed(Request("POST", "/login", (json_type,), credentials))),
            "POST /passkeys/login/verify": await cost_of(app, counter, next_passkey_sign_in),
        }


def _fixed(request: Request) -> Callable[[], Awaitable[Request]]:
    async def make() -> Request:
        return request

    return make


def _basic(client_id: str, secret: str) -> tuple[str, str]:
    return ("authorization", "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode())


async def measure_provider(client: httpx.AsyncClient) -> dict[str, Cost]:
    """The token endpoint of the OpenID provider (RS256): a service's client-credentials grant,
    and an app's code exchange with PKCE for `openid email`, each with a fresh code that a
    signed-in browser got from the authorize endpoint outside the measurement."""
    app: Any = client.app  # type: ignore[attr-defined]
    admin = await admin_token(client)
    await register(client)
    client.cookies.clear()
    web_app = await new_client(client, admin, scopes=["openid", "email"])
    service = await new_client(client, admin, name="billing", redirectUris=[], scopes=["billing:read"])
    form_type = ("content-type", "application/x-www-form-urlencoded")

    async def next_code_exchange() -> Request:
        code, verifier, _ = await signed_in_code(client, web_app, scope="openid email")
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": APP, "code_verifier": verifier}
        return Request(
            "POST",
            "/oauth2/token",
            (form_type, _basic(web_app["clientId"], web_app["clientSecret"])),
            urlencode(form).encode(),
        )

    client_credentials = Request(
        "POST",
        "/oauth2/token",
        (form_type, _basic(service["clientId"], service["clientSecret"])),
        b"grant_type=client_credentials",
    )
    runtime = app.state.runtime
    async with counting(runtime.engine, runtime.lane) as counter:
        return {
            "POST /oauth2/token (client_credentials)": await cost_of(app, counter, _fixed(client_credentials)),
            "POST /oauth2/token (authorization_code)": await cost_of(app, counter, next_code_exchange),
        }


def verdicts(measured: dict[str, Cost], budgeted: dict[str, dict[str, int]]) -> list[str]:
    found = []
    for name, cost in measured.items():
        for figure in ("calls", "statements"):
            have, allowed = getattr(cost, figure), budgeted[name][figure]
            if have > allowed * (1 + TOLERANCE):
                found.append(f"{name}: {have} {figure}, over its budget of {allowed}")
            elif have < allowed * (1 - TOLERANCE):
                found.append(f"{name}: {have} {figure}, well under its budget of {allowed}: lower the budget")
    return found


@pytest.mark.asyncio
async def test_every_hot_request_stays_within_its_cost_budget(backend: str, make_client: ClientFactory) -> None:
    async with make_client() as client:
        assert_within_budget(await measure(client), backend)


@pytest.mark.asyncio
async def test_the_token_endpoint_stays_within_its_cost_budget(backend: str, make_client: ClientFactory) -> None:
    async with provider(make_client) as client:
        assert_within_budget(await measure_provider(client), backend)


def assert_within_budget(measured: dict[str, Cost], backend: str) -> None:
    """Every measured request within its budget; else each overrun, and all that was measured."""
    found = verdicts(measured, budget(backend))
    table = {
        name: {"calls": cost.calls, "statements": cost.statements, "ran": list(cost.ran)}
        for name, cost in measured.items()
    }
    assert not found, "\n".join(found) + f"\nmeasured on {backend}: {json.dumps(table, indent=2)}"
