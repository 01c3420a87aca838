"""The TypeScript client (clients/typescript) against real servers: its generated types match
`authgate openapi`, and its `npm test` passes.

One test, so pytest-xdist never runs two `npm ci` in the same folder at once; a file lock
keeps two pytest runs in one checkout apart too. Needs Node 20+ and npm: skipped without them,
failed without them in CI.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.paths import ROOT
from tests.support.server import Server, run_authgate
from tests.support.skip import skip_or_fail

pytestmark = pytest.mark.slow

CLIENT = ROOT / "clients" / "typescript"
SCHEMA = CLIENT / "src" / "schema.d.ts"
REGENERATE = (
    "JWT_SECRET=any-secret-of-32-characters-or-more .venv/bin/authgate openapi > /tmp/openapi.json"
    " && (cd clients/typescript && npm ci && npm run generate -- /tmp/openapi.json)"
)


def _run(args: list[str], what: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `args` in the client's folder; fail with its output when it exits non-zero."""
    result = subprocess.run(args, cwd=CLIENT, env=env, capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        pytest.fail(f"{what} exited {result.returncode}:\n{result.stdout}\n{result.stderr}", pytrace=False)
    return result


@contextmanager
def _client_folder_lock() -> Iterator[None]:
    """One user of clients/typescript at a time (npm ci empties node_modules, the build writes dist)."""
    name = hashlib.sha256(str(CLIENT).encode()).hexdigest()[:16]
    with open(Path(tempfile.gettempdir()) / f"authgate-ts-client-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def test_typescript_client(tmp_path: Path) -> None:
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            skip_or_fail(f"{tool} is not installed: the TypeScript client (clients/typescript) needs Node 20+ and npm")

    with _client_folder_lock():
        _run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], "npm ci")

        # The committed types must be what openapi-typescript makes of the server's document now.
        printed = run_authgate(tmp_path, "openapi")
        assert printed.returncode == 0, printed.stderr
        document, regenerated = tmp_path / "openapi.json", tmp_path / "schema.d.ts"
        document.write_text(printed.stdout)
        _run(["node", "scripts/generate.mjs", str(document), str(regenerated)], "npm run generate")
        if regenerated.read_text() != SCHEMA.read_text():
            pytest.fail(
                f"clients/typescript/src/schema.d.ts is out of date with `authgate openapi`; regenerate it:\n  {REGENERATE}",
                pytrace=False,
            )

        # Three servers, started side by side: default lifetimes; access tokens of 1 to 2 s (exp
        # is whole seconds: 2000 ms never leaves a fresh token less than a second); and no sign-in
        # recent enough for a sensitive change (the proof sent with adding or deleting a passkey).
        for name in ("default", "short", "reauth"):
            (tmp_path / name).mkdir()
        with ThreadPoolExecutor(max_workers=3) as pool:
            starting = [
                pool.submit(Server, tmp_path / "default"),
                pool.submit(Server, tmp_path / "short", JWT_EXPIRATION_MS="2000"),
                pool.submit(Server, tmp_path / "reauth", AUTHGATE_REAUTH_MAX_AGE_SECONDS="0"),
            ]
        servers = [future.result() for future in starting if future.exception() is None]
        try:
            default, short, reauth = (future.result() for future in starting)  # raises if one did not start
            env = {
                **os.environ,
                "AUTHGATE_URL": default.base,
                "AUTHGATE_SHORT_TOKEN_URL": short.base,
                "AUTHGATE_ALWAYS_REAUTH_URL": reauth.base,
            }
            _run(["npm", "test"], "npm test (clients/typescript)", env=env)
        finally:
            for server in servers:
                server.stop()
