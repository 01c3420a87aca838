"""A wildcard in an origin list stops `authgate serve` at start with one line naming the
variable: `https://*.example.com` would look allowed and match nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.server import free_port, run_authgate

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("variable", ["AUTHGATE_CORS_ORIGINS", "AUTHGATE_REDIRECT_ALLOWLIST"])
def test_a_wildcard_origin_stops_serve(tmp_path: Path, variable: str) -> None:
    env = {variable: "https://app.example.com,https://*.example.com"}
    result = run_authgate(tmp_path, "serve", "--host", "127.0.0.1", "--port", str(free_port()), **env)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert variable in lines[0] and "wildcard" in lines[0]
    assert "Traceback" not in result.stderr
