"""The cookie flow in a real browser, from a page on another origin: headless Chromium (driven
by Selenium) loads an app from `app.example.test`, whose script calls authgate at
`auth.example.test` with `fetch(..., {credentials: "include"})` and no bearer header, as
`AUTHGATE_CORS_ORIGINS` and `AUTHGATE_COOKIE_DOMAIN` allow. A page on a sibling origin that is
not listed can neither read the answers nor log the user out with the cookies its requests carry.
Both names resolve to loopback through Chromium's host resolver rules."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver

from tests.support.server import free_port, serve_in_thread, server_env, wait_healthy

pytestmark = pytest.mark.slow

PIN_ENV = {  # the name-and-PIN login of the cookie flow
    "AUTHGATE_PASSWORD_MIN_LENGTH": "4",
    "AUTHGATE_PASSWORD_REQUIRE_MIXED": "false",
    "AUTHGATE_PASSWORD_BLOCK_COMMON": "false",
    "JWT_EXPIRATION_MS": "60000",
}

# The app's whole client: one fetch helper. It resolves to what a script can see of the answer.
PAGE = """<!doctype html>
<meta charset="utf-8">
<title>app</title>
<script>
const AUTH = "{auth}";
async function call(method, path, body, mode) {{
  const init = {{method, credentials: "include", mode: mode || "cors"}};
  if (body != null) {{
    init.headers = {{"Content-Type": "application/json"}};
    init.body = JSON.stringify(body);
  }}
  try {{
    const response = await fetch(AUTH + path, init);
    if (response.type === "opaque") return {{opaque: true}};
    return {{status: response.status, body: await response.json()}};
  }} catch (error) {{
    return {{error: String(error)}};
  }}
}}
</script>
"""


def page_server(auth: str, port: int) -> Any:
    """A loopback HTTP server on `port` whose every path is the app page."""
    page = PAGE.format(auth=auth).encode()

    class AppPage(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *_args: Any) -> None:
            pass

    return serve_in_thread(AppPage, port)


@contextmanager
def authgate_at(workdir: Path, port: int, **env: str) -> Iterator[Path]:
    """`authgate serve --access-log` on a port chosen first, so the public URL can name it; the
    log's path."""
    log_path = workdir / "server.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "authgate", "serve", "--host", "127.0.0.1", "--port", str(port), "--access-log"],
            cwd=workdir,
            env=server_env(workdir, port, **env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_healthy(process, f"http://127.0.0.1:{port}", log_path)
            yield log_path
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def call(driver: webdriver.Chrome, method: str, path: str, body: Any = None, mode: str = "cors") -> dict[str, Any]:
    """Run the page's `call(...)` in the page, as the app's own script."""
    done: dict[str, Any] = driver.execute_async_script(
        "call(arguments[0], arguments[1], arguments[2], arguments[3]).then(arguments[arguments.length - 1]);",
        method,
        path,
        body,
        mode,
    )
    return done


def auth_cookies(driver: webdriver.Chrome) -> dict[str, dict[str, Any]]:
    """The accessToken and refreshToken cookies the browser would send to the current page."""
    return {c["name"]: c for c in driver.get_cookies() if c["name"] in {"accessToken", "refreshToken"}}


def test_cookie_flow_from_an_app_on_a_sibling_origin(
    tmp_path: Path, server_database: dict[str, str], chromium: webdriver.Chrome
) -> None:
    auth_port, app_port, other_port = free_port(), free_port(), free_port()
    auth = f"http://auth.example.test:{auth_port}"
    app, other = f"http://app.example.test:{app_port}", f"http://evil.example.test:{other_port}"
    env = {
        **PIN_ENV,
        **server_database,
        "AUTHGATE_PUBLIC_URL": auth,
        "AUTHGATE_CORS_ORIGINS": app,
        "AUTHGATE_COOKIE_DOMAIN": "example.test",
        "AUTHGATE_COOKIE_SECURE": "false",
    }
    pages = [page_server(auth, app_port), page_server(auth, other_port)]
    try:
        with authgate_at(tmp_path, auth_port, **env) as log_path:
            browser = chromium
            browser.get(f"{app}/")
            user = {"email": "cooluser1@example.com", "username": "cooluser1", "password": "0000"}
            registered = call(browser, "POST", "/auth/register", user)
            assert registered.get("status") == 201, registered
            browser.delete_all_cookies()  # the login below must set them itself

            # Login: the cookies are set for the parent domain, so the app's own host has them.
            login = call(browser, "POST", "/auth/login", {"name": "cooluser1", "pin": "0000"})
            assert login == {"status": 200, "body": {**login["body"], "message": "Login successful"}}, login
            first = auth_cookies(browser)
            assert set(first) == {"accessToken", "refreshToken"}, browser.get_cookies()
            for cookie in first.values():
                assert cookie["domain"] == ".example.test" and cookie["httpOnly"] and cookie["sameSite"] == "Lax"
            assert "accessToken" not in browser.execute_script("return document.cookie")

            # An authenticated GET by the cookie alone.
            profile = call(browser, "GET", "/auth/profile")
            assert profile["status"] == 200 and profile["body"]["username"] == "cooluser1", profile

            # Refresh by the cookie alone rotates both cookies.
            refreshed = call(browser, "POST", "/auth/refresh")
            assert refreshed["status"] == 200, refreshed
            assert refreshed["body"]["message"] == "Access token refreshed successfully"
            second = auth_cookies(browser)
            assert second["refreshToken"]["value"] != first["refreshToken"]["value"]
            assert second["accessToken"]["value"] == refreshed["body"]["accessToken"]
            assert call(browser, "GET", "/auth/profile")["status"] == 200

            # A sibling origin that is not listed: the browser sends the cookies (same site), but
            # its script cannot read any answer, and its logout is refused by the CSRF check.
            browser.get(f"{other}/")
            read = call(browser, "GET", "/auth/profile")
            assert "error" in read and "status" not in read, read
            assert call(browser, "POST", "/auth/logout", mode="no-cors") == {"opaque": True}
            assert call(browser, "POST", "/auth/refresh", mode="no-cors") == {"opaque": True}
            access_lines = log_path.read_text().splitlines()
            assert any('"POST /auth/logout HTTP/1.1" 403' in line for line in access_lines), access_lines[-5:]
            assert any('"POST /auth/refresh HTTP/1.1" 403' in line for line in access_lines), access_lines[-5:]
            browser.get(f"{app}/")
            assert auth_cookies(browser) == second  # nothing rotated or deleted
            assert call(browser, "GET", "/auth/profile")["status"] == 200

            # Logout ends the session and deletes the cookies.
            logout = call(browser, "POST", "/auth/logout")
            assert logout == {"status": 200, "body": {"message": "Logout successful"}}, logout
            assert auth_cookies(browser) == {}
            # The old access cookie, put back, no longer authenticates: the session is gone.
            old = second["accessToken"]
            browser.add_cookie({k: old[k] for k in ("name", "value", "domain", "path", "httpOnly")})
            after = call(browser, "GET", "/auth/profile")
            assert after["status"] == 401 and after["body"]["code"] == "invalid_token", after
    finally:
        for server in pages:
            server.shutdown()
            server.server_close()
