"""The public surface of authgate.client, pinned; and that using it needs nothing of the server."""

from __future__ import annotations

import os
import subprocess
import sys

import authgate.client

PUBLIC = [
    "AuthgateError",
    "AuthgateMiddleware",
    "Claims",
    "TokenVerifier",
    "problem_response",
    "require_authenticated",
    "require_caps",
    "require_role",
    "require_scopes",
]


def test_all_exports_are_pinned() -> None:
    assert authgate.client.__all__ == PUBLIC


def test_every_public_name_is_exported() -> None:
    public = sorted(name for name in vars(authgate.client) if not name.startswith("_"))
    assert public == sorted(PUBLIC)
    for name in PUBLIC:
        assert getattr(authgate.client, name).__module__.startswith("authgate.client._"), name


def test_importing_needs_no_server_module_or_setting() -> None:
    env = {k: v for k, v in os.environ.items() if not (k == "JWT_SECRET" or k.startswith("AUTHGATE_"))}
    code = (
        "import sys, authgate.client\n"
        "print(sorted(m for m in sys.modules if m.startswith('authgate') and not m.startswith('authgate.client')))"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['authgate']"
