"""npm packages the tests run, each folder's pinned by its package-lock.json (tests/browser's
axe-core, tests/interop's openid-client): `npm_ci(folder)` installs them into `folder/node_modules`
when what is there is not what the lock pins, once at a time across pytest-xdist workers and runs.

Without npm, or without the registry (a newcomer offline), the case is skipped saying why; in CI
(`CI=true`) it fails instead (skip.py). Any other failure of `npm ci` is an error.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

from tests.support.skip import skip_or_fail

NPM_CI = ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"]
OFFLINE = re.compile(
    r"\bE(NOTFOUND|AI_AGAIN|CONNREFUSED|CONNRESET|TIMEDOUT|NETUNREACH|HOSTUNREACH|NETDOWN)\b|\bnetwork\b", re.I
)


def pinned(folder: Path) -> dict[str, str]:
    """`{package: version}` of everything `folder/package-lock.json` pins."""
    lock = json.loads((folder / "package-lock.json").read_text())
    prefix = "node_modules/"
    return {name[len(prefix) :]: str(entry["version"]) for name, entry in lock["packages"].items() if name}


def installed(folder: Path) -> dict[str, str | None]:
    """`{package: version}` of what `folder/node_modules` holds of the pinned packages (None: missing)."""
    found: dict[str, str | None] = {}
    for name in pinned(folder):
        try:
            found[name] = str(json.loads((folder / "node_modules" / name / "package.json").read_text())["version"])
        except (OSError, ValueError, KeyError):
            found[name] = None
    return found


def npm_ci(folder: Path, why: str, env: Mapping[str, str] | None = None) -> None:
    """Make `folder/node_modules` hold what its lock pins (`npm ci` if it does not); `why` says what
    the packages are for, in the reason a case is skipped. `env`: npm's environment (tests)."""
    name = hashlib.sha256(str(folder).encode()).hexdigest()[:16]
    with open(Path(tempfile.gettempdir()) / f"authgate-npm-{name}.lock", "w") as lock:
        # One `npm ci` at a time (pytest-xdist workers, two runs), and nobody reads node_modules
        # while it is being emptied and filled: the check is made holding the lock too.
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if installed(folder) == pinned(folder):
                return
            if shutil.which("npm") is None:
                skip_or_fail(f"npm is not installed: {why}", env)
            result = subprocess.run(NPM_CI, cwd=folder, capture_output=True, text=True, timeout=300, env=env)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    if result.returncode == 0:
        return
    said = [line.removeprefix("npm error").strip() for line in result.stderr.splitlines()]
    offline = [line for line in said if OFFLINE.search(line)]
    if offline:
        detail = next((line for line in offline if "request to" in line), offline[0])
        skip_or_fail(f"npm ci in {folder} cannot reach the npm registry ({detail}): {why}", env)
    raise RuntimeError(f"npm ci ({folder}) exited {result.returncode}:\n{result.stderr}")
