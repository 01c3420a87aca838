"""The OpenID provider's token endpoint (section `provider` of `make bench`): client-credentials
grants and code exchanges per second, each against hello world on the same server, on SQLite
and on PostgreSQL.

The server runs as the provider is run: `AUTHGATE_OIDC_PROVIDER=on`, RS256, its public URL
its own address. An administrator (made with `authgate user create --role admin`) registers
two clients through `POST /oauth2/clients`: an app (confidential, a redirect URI, `openid
email`) and a service (client credentials, one custom scope). Every token request
authenticates with HTTP Basic.

Each code exchange needs a code nobody spent: they are written beforehand by bench/seed.py
(`seed_codes`), each as the authorize endpoint writes one, bound to the app, its redirect URI,
one PKCE challenge, a nonce and `openid email`, and to one of the seeded users' sessions; wrk
spends one per request (bench/code_exchange.lua). Through the authorize endpoint, each would be
a signed-in browser's request of its own before the run.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import httpx
import report
import seed
from harness import HERE, PASSWORD, Load, free_port, log, server_python, start_authgate, warm_up, wrk
from report import met

from authgate.security.hashing import HashPolicy

CONNECTIONS = 32
ROUNDS = 3  # hello world, client credentials, code exchange, in turns; the best of each counts
SESSIONS = 1000  # seeded users, each with a session; code i is bound to session i % SESSIONS
CODES_PER_SECOND = 2000  # codes written per second of each exchange run: far more than a run spends
REDIRECT_URI = "https://app.example.com/callback"
SCOPES = ["openid", "email"]
SERVICE_SCOPES = ["billing:read"]
ADMIN_EMAIL = "bench-admin@example.com"
# The targets (bench/RESULTS.md says how they were chosen). A grant signs one RS256 token: 11-12
# times hello world's server CPU; an exchange signs two and writes the grant in a transaction of
# eleven statements: about 50 times.
CLIENT_CREDENTIALS_TARGET = 0.075  # client-credentials grants/s ÷ hello world
CODE_TARGET = 0.015  # code exchanges/s ÷ hello world
TITLES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}


@dataclass
class TokenResults:
    """By database: its loads, and what the run needed to know about them."""

    loads: dict[str, dict[str, list[Load]]] = field(default_factory=dict)
    codes_per_run: dict[str, int] = field(default_factory=dict)
    seed_seconds: dict[str, float] = field(default_factory=dict)


def _basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{quote(client_id, safe='')}:{quote(secret, safe='')}".encode()).decode()


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def _make_admin(database_url: str, jwt_secret: str, workdir: Path) -> None:
    environment = {
        **os.environ,
        "JWT_SECRET": jwt_secret,
        "AUTHGATE_DATABASE_URL": database_url,
        "AUTHGATE_LOG_LEVEL": "WARNING",
    }
    command = [str(server_python()), "-m", "authgate", "user", "create", "--email", ADMIN_EMAIL]
    command += ["--role", "admin", "--verified", "--password-stdin"]
    made = subprocess.run(command, input=PASSWORD + "\n", capture_output=True, text=True, env=environment, cwd=workdir)
    if made.returncode != 0:
        raise SystemExit(f"authgate user create failed:\n{made.stderr[-2000:]}")


def _register_clients(base: str) -> tuple[dict[str, str], dict[str, str]]:
    """The app and the service, registered by the administrator."""
    with httpx.Client(base_url=base, timeout=30) as client:
        signed_in = client.post("/login", json={"email": ADMIN_EMAIL, "password": PASSWORD})
        signed_in.raise_for_status()
        admin = {"Authorization": f"Bearer {signed_in.json()['token']}"}
        app = client.post(
            "/oauth2/clients",
            json={"name": "bench app", "redirectUris": [REDIRECT_URI], "scopes": SCOPES},
            headers=admin,
        )
        app.raise_for_status()
        service = client.post(
            "/oauth2/clients", json={"name": "bench service", "scopes": SERVICE_SCOPES}, headers=admin
        )
        service.raise_for_status()
    return app.json(), service.json()


def _check_once(base: str, app: dict[str, str], service: dict[str, str], code: str, verifier: str) -> None:
    """One grant of each kind by hand before wrk: the setup is right, and the answer is a token."""
    with httpx.Client(base_url=base, timeout=30) as client:
        answer = client.post(
            "/oauth2/token",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": _basic(service["clientId"], service["clientSecret"])},
        )
        if answer.status_code != 200 or "access_token" not in answer.json():
            raise SystemExit(f"client credentials refused: {answer.status_code} {answer.text[:300]}")
        answer = client.post(
            "/oauth2/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT_URI,
                "code_verifier": verifier,
            },
            headers={"Authorization": _basic(app["clientId"], app["clientSecret"])},
        )
        if answer.status_code != 200 or "id_token" not in answer.json():
            raise SystemExit(f"a seeded code was refused: {answer.status_code} {answer.text[:300]}")


def provider_section(results: TokenResults, workdir: Path, name: str, database_url: str, seconds: float) -> None:
    """hello world, client credentials and code exchange, `ROUNDS` times in turns."""
    password_hash = HashPolicy(bcrypt_rounds=12).make(seed.SEED_PASSWORD)
    seed.seed(database_url, users=SESSIONS, sessions=SESSIONS, password_hash=password_hash)
    jwt_secret = secrets.token_urlsafe(48)
    _make_admin(database_url, jwt_secret, workdir)
    port = free_port()
    server = start_authgate(
        workdir,
        database_url,
        port=port,
        JWT_SECRET=jwt_secret,
        AUTHGATE_OIDC_PROVIDER="on",
        AUTHGATE_JWT_ALGORITHM="RS256",
        AUTHGATE_PUBLIC_URL=f"http://localhost:{port}",
    )
    try:
        app, service = _register_clients(server.base)
        verifier, challenge = _pkce()
        per_run = max(1000, round(CODES_PER_SECOND * seconds))
        results.codes_per_run[name] = per_run
        results.seed_seconds[name] = seed.seed_codes(
            database_url,
            client_id=app["clientId"],
            redirect_uri=REDIRECT_URI,
            challenge=challenge,
            scopes=SCOPES,
            first=0,
            count=1 + ROUNDS * per_run,
            sessions=SESSIONS,
        )
        _check_once(server.base, app, service, seed.seed_code(0), verifier)
        warm_up(server)
        service_auth = {"Authorization": _basic(service["clientId"], service["clientSecret"])}
        app_auth = {"Authorization": _basic(app["clientId"], app["clientSecret"])}
        tail = f"&redirect_uri={quote(REDIRECT_URI, safe='')}&code_verifier={verifier}"
        loads: dict[str, list[Load]] = {"hello": [], "client_credentials": [], "code": []}
        for round_ in range(ROUNDS):
            codes = workdir / f"{name}-codes-{round_}.txt"
            codes.write_text("".join(seed.seed_code(1 + round_ * per_run + i) + "\n" for i in range(per_run)))
            loads["hello"].append(wrk(f"GET /healthz ({round_ + 1})", server, "/healthz", seconds, CONNECTIONS))
            loads["client_credentials"].append(
                wrk(
                    f"POST /oauth2/token client_credentials ({round_ + 1})",
                    server,
                    "/oauth2/token",
                    seconds,
                    CONNECTIONS,
                    headers=service_auth,
                    script=HERE / "client_credentials.lua",
                )
            )
            exchanged = wrk(
                f"POST /oauth2/token authorization_code ({round_ + 1})",
                server,
                "/oauth2/token",
                seconds,
                CONNECTIONS,
                headers=app_auth,
                script=HERE / "code_exchange.lua",
                env={"BENCH_CODES": str(codes), "BENCH_FORM_TAIL": tail, "BENCH_THREADS": "1"},
            )
            if exchanged.rps * seconds >= 0.95 * per_run:
                raise SystemExit(f"a code exchange run spent nearly all its {per_run} codes: raise CODES_PER_SECOND")
            loads["code"].append(exchanged)
        results.loads[name] = loads
    finally:
        server.stop()
    log(f"{name}: {results.codes_per_run[name]} codes per exchange run, seeded in {results.seed_seconds[name]:.1f} s")


def render(results: TokenResults) -> tuple[str, list[tuple[str, str, str, str]]]:
    """The section's text, and its targets' rows."""
    rows: list[list[object]] = []
    targets: list[tuple[str, str, str, str]] = []
    for name, loads in results.loads.items():
        title = TITLES.get(name, name)
        hello, granted, exchanged = (
            max(load.rps for load in loads[key]) for key in ("hello", "client_credentials", "code")
        )
        errors = sum(load.errors for key in ("client_credentials", "code") for load in loads[key])
        cc_ratio, code_ratio = granted / hello, exchanged / hello
        rows.append(
            [
                title,
                hello,
                granted,
                cc_ratio,
                exchanged,
                code_ratio,
                min(load.server_cpu_us for load in loads["hello"]),
                min(load.server_cpu_us for load in loads["client_credentials"]),
                min(load.server_cpu_us for load in loads["code"]),
                errors,
            ]
        )
        ok = errors == 0
        targets.append(
            (
                f"client credentials ÷ hello (provider, {title}, 1 worker)",
                f"{cc_ratio:.3f}",
                f"≥ {CLIENT_CREDENTIALS_TARGET}",
                met(ok and cc_ratio >= CLIENT_CREDENTIALS_TARGET),
            )
        )
        targets.append(
            (
                f"code exchange ÷ hello (provider, {title}, 1 worker)",
                f"{code_ratio:.3f}",
                f"≥ {CODE_TARGET}",
                met(ok and code_ratio >= CODE_TARGET),
            )
        )
    per_run = ", ".join(f"{TITLES.get(k, k)} {v:,}" for k, v in results.codes_per_run.items())
    text = "\n\n".join(
        [
            "### OpenID provider: the token endpoint\n",
            report.table(
                [
                    "database",
                    "hello req/s",
                    "client credentials/s",
                    "÷ hello",
                    "code exchanges/s",
                    "÷ hello",
                    "server CPU µs per hello",
                    "per grant",
                    "per exchange",
                    "errors",
                ],
                rows,
            ),
            "One worker, RS256, the provider on (`AUTHGATE_OIDC_PROVIDER=on`), "
            f"{CONNECTIONS} connections. Hello world, client credentials and code exchange run in turns, "
            f"{ROUNDS} times; each figure is the best of its {ROUNDS} runs. Client credentials: a service "
            "client with one custom scope, HTTP Basic; one access token signed. Code exchange: a confidential "
            "app, HTTP Basic, PKCE, `openid email`; the code used up, the grant written with its audit entry "
            "and event, an access token and an ID token signed, a refresh token. Each exchange spends a code "
            "of its own, written before the run by bench/seed.py as the authorize endpoint writes one (a "
            "one-time row of purpose `oauth_code`: the code's digest and its binding to the app, redirect "
            f"URI, PKCE challenge, nonce, scopes and one of {SESSIONS:,} seeded users' sessions), valid for "
            f"a year instead of 60 seconds; codes per exchange run: {per_run}. Server CPU: authgate's "
            "process, the least of the runs (PostgreSQL's own work is not in it; SQLite's is).",
        ]
    )
    return text, targets
