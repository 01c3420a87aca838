"""The cookie flow verbatim against a real `authgate serve` process: the user made with
`authgate user create`, login with `{name, pin}`, the cookies cut out of the raw response
headers as its script's grep does, then refresh and logout with the two cookies sent as two
separate `Cookie:` header lines."""

from __future__ import annotations

import http.client
import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.support.server import run_authgate, running_server

pytestmark = pytest.mark.slow

PIN_ENV = {
    "AUTHGATE_PASSWORD_MIN_LENGTH": "4",
    "AUTHGATE_PASSWORD_REQUIRE_MIXED": "false",
    "AUTHGATE_PASSWORD_BLOCK_COMMON": "false",
    "JWT_EXPIRATION_MS": "60000",
}


def _raw(
    base: str, method: str, path: str, headers: list[tuple[str, str]], body: str | None = None
) -> tuple[int, str, str]:
    """Send exactly these header lines (repeats kept); return status, raw header block, body."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
    try:
        conn.putrequest(method, path)
        for name, value in headers:
            conn.putheader(name, value)
        payload = body.encode() if body is not None else b""
        if body is not None:
            conn.putheader("Content-Length", str(len(payload)))
        conn.endheaders(payload or None)
        response = conn.getresponse()
        raw_headers = "".join(f"{k}: {v}\n" for k, v in response.getheaders())
        return response.status, raw_headers, response.read().decode()
    finally:
        conn.close()


def _grep(headers: str, name: str) -> str:
    """`grep -o 'name=[^;]*' | cut -s -d= -f2`, as the script does it."""
    found = re.search(rf"{name}=([^;]*)", headers)
    assert found, f"no {name} cookie in:\n{headers}"
    return found.group(1)


def test_cookie_flow_with_two_cookie_headers(tmp_path: Path, server_database: dict[str, str]) -> None:
    created = run_authgate(
        tmp_path,
        "user",
        "create",
        "--username",
        "cooluser1",
        "--password",
        "0000",
        "--email",
        "cooluser1@example.com",
        **PIN_ENV,
        **server_database,
    )
    assert created.returncode == 0, created.stderr

    with running_server(tmp_path, **PIN_ENV, **server_database) as base:
        status, headers, body = _raw(
            base,
            "POST",
            "/auth/login",
            [("Content-Type", "application/json")],
            '{\n"name": "cooluser1",\n"pin": "0000"\n}',
        )
        assert status == 200, body
        assert json.loads(body)["message"] == "Login successful"
        access, refresh = _grep(headers, "accessToken"), _grep(headers, "refreshToken")
        assert re.search(r"accessToken=[^;]*;.*Max-Age=60", headers, re.IGNORECASE)
        assert re.search(r"refreshToken=[^;]*;.*Max-Age=2592000", headers, re.IGNORECASE)

        two_cookies = [("Cookie", f"accessToken={access}"), ("Cookie", f"refreshToken={refresh}")]
        status, headers, body = _raw(base, "POST", "/auth/refresh", two_cookies)
        assert status == 200, body
        out = json.loads(body)
        assert out["message"] == "Access token refreshed successfully"
        assert _grep(headers, "accessToken") == out["accessToken"]
        access, refresh = out["accessToken"], _grep(headers, "refreshToken")

        # A protected endpoint, authenticated by the cookie alone.
        status, _, body = _raw(base, "GET", "/auth/profile", [("Cookie", f"accessToken={access}")])
        assert status == 200 and json.loads(body)["username"] == "cooluser1"

        two_cookies = [("Cookie", f"accessToken={access}"), ("Cookie", f"refreshToken={refresh}")]
        status, headers, body = _raw(base, "POST", "/auth/logout", two_cookies)
        assert status == 200
        assert json.loads(body) == {"message": "Logout successful"}
        assert re.search(r"accessToken=\"?\"?;.*Max-Age=0", headers, re.IGNORECASE)
        assert re.search(r"refreshToken=\"?\"?;.*Max-Age=0", headers, re.IGNORECASE)

        # Both tokens are dead.
        status, _, _ = _raw(base, "GET", "/auth/profile", [("Cookie", f"accessToken={access}")])
        assert status == 401
        status, _, _ = _raw(base, "POST", "/auth/refresh", two_cookies)
        assert status == 401
