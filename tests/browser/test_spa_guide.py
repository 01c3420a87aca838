"""The SPA guide (docs/guides/spa-and-api.md), followed as written: authgate started with the
guide's settings as `make run HOST=localhost` starts it, the example app served by the guide's
command on another port (another origin, one site), and the mail read with `authgate mail`,
which `make mail` runs. Headless Chromium then creates an account, opens the verification link
on the app's page, logs in, refreshes and logs out, all through the app's own script."""

from __future__ import annotations

import re
import shlex
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By

from tests.support.browser import example_stack, fill, status_says
from tests.support.http import STRONG_PASSWORD
from tests.support.paths import ROOT
from tests.support.server import PATIENCE, free_port, run_authgate

pytestmark = pytest.mark.slow

GUIDE = (ROOT / "docs" / "guides" / "spa-and-api.md").read_text()
GUIDE_APP = "http://localhost:5173"


def guide_settings() -> dict[str, str]:
    """The settings on the guide's `make run` line."""
    found = re.search(r"^((?:AUTHGATE_\w+=\S+ )+)make run HOST=localhost$", GUIDE, re.MULTILINE)
    assert found, "the guide's make run line is not where this test reads it"
    return dict(pair.split("=", 1) for pair in shlex.split(found.group(1)))


@pytest.fixture
def guide_stack(tmp_path: Path) -> Iterator[tuple[str, str, dict[str, str]]]:
    """authgate and the example app, started as the guide says, on free ports."""
    assert "python3 examples/spa/serve.py --port 5173" in GUIDE and "make mail" in GUIDE
    auth_port, app_port = free_port(), free_port()
    app = f"http://localhost:{app_port}"
    settings = {name: value.replace(GUIDE_APP, app) for name, value in guide_settings().items()}
    auth = f"http://localhost:{auth_port}"
    # No AUTHGATE_PUBLIC_URL: serve names its own address.
    with example_stack(tmp_path, auth_port=auth_port, app_port=app_port, settings=settings):
        yield auth, app, settings


def mailed_link(workdir: Path, settings: dict[str, str], address: str, kind: str) -> str:
    """The link of the newest `kind` message to `address`, as `authgate mail` prints it."""
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        shown = run_authgate(workdir, "mail", **settings).stdout
        lines = [line for line in shown.splitlines() if address in line and f" {kind} " in line]
        if lines:
            return lines[-1].split()[-1]
        time.sleep(0.2)
    raise AssertionError(f"no {kind} message for {address}: {shown}")


def test_the_spa_guide_register_verify_login_refresh_logout(
    guide_stack: tuple[str, str, dict[str, str]], chromium: webdriver.Chrome, tmp_path: Path
) -> None:
    auth, app, settings = guide_stack
    driver = chromium
    driver.get(f"{app}/?auth={auth}")
    status_says(driver, "Not signed in.")

    fill(driver, register_email="ada@example.com", register_password=STRONG_PASSWORD)
    driver.find_element(By.ID, "register").click()
    status_says(driver, "Check your email")
    assert not driver.get_cookies()  # verification is required: no session yet

    link = mailed_link(tmp_path, settings, "ada@example.com", "verify_email")
    assert link.startswith(f"{app}/auth/verify-email?token=")  # the app's page, not authgate's
    driver.get(link)
    status_says(driver, "Email verified.")
    assert "token" not in driver.current_url  # the page took it out of the address bar

    fill(driver, login_email="ada@example.com", login_password=STRONG_PASSWORD)
    driver.find_element(By.ID, "login").click()
    status_says(driver, "Signed in as ada@example.com.")
    cookies = {c["name"]: c for c in driver.get_cookies()}
    assert set(cookies) == {"accessToken", "refreshToken"}
    assert all(c["httpOnly"] and c["sameSite"] == "Lax" for c in cookies.values())
    assert driver.execute_script("return document.cookie") == ""  # the script sees no token

    driver.find_element(By.ID, "refresh").click()
    status_says(driver, "Session refreshed.")
    rotated = {c["name"]: c["value"] for c in driver.get_cookies()}
    assert rotated["refreshToken"] != cookies["refreshToken"]["value"]
    assert driver.find_element(By.ID, "user-email").text == "ada@example.com"

    driver.find_element(By.ID, "logout").click()
    status_says(driver, "Signed out.")
    assert not driver.get_cookies()
    driver.get(app)
    status_says(driver, "Not signed in.")  # GET /user answers 401 now
