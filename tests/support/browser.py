"""Where headless Chromium and its driver are installed (apt-get install chromium chromium-driver);
the `chromium` fixture (browser/conftest.py) drives them. Also what the tests of the example app
(examples/spa) share: starting authgate and the app, each with its output in a log, filling the
page's boxes, and waiting for its status line."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from tests.support.paths import ROOT
from tests.support.server import PATIENCE, server_env, wait_healthy
from tests.support.skip import skip_or_fail

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def need_chromium() -> None:
    """Skip (fail in CI) where Chromium or its driver is not installed."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if shutil.which(path) is None:
            skip_or_fail(f"{path} is missing: apt-get install chromium chromium-driver")


def launch_chromium(profile: Path, *, logs: bool = False) -> webdriver.Chrome:
    """Headless Chromium with its own profile folder, both names of the test origins
    (`*.example.test`) resolving to loopback. With `logs`, the browser's console and its
    DevTools network events are kept for `driver.get_log("browser")` and `get_log("performance")`."""
    options = Options()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",  # runs as root in CI containers
        "--disable-dev-shm-usage",
        "--host-resolver-rules=MAP *.example.test 127.0.0.1",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(argument)
    if logs:
        options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_script_timeout(15)
    return driver


def started(args: list[str], cwd: Path, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(args, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)


@contextmanager
def example_stack(workdir: Path, *, auth_port: int, app_port: int, settings: dict[str, str]) -> Iterator[None]:
    """`authgate serve --host localhost` with `settings` and the example app, on their ports,
    until the block ends; authgate healthy before it starts."""
    env = server_env(workdir, None, **settings)
    processes = [
        started(
            [sys.executable, "-m", "authgate", "serve", "--host", "localhost", "--port", str(auth_port)],
            workdir,
            env,
            workdir / "authgate.log",
        ),
        started(
            [sys.executable, str(ROOT / "examples" / "spa" / "serve.py"), "--port", str(app_port)],
            workdir,
            env,
            workdir / "app.log",
        ),
    ]
    try:
        wait_healthy(processes[0], f"http://localhost:{auth_port}", workdir / "authgate.log")
        yield
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)


def status_says(driver: webdriver.Chrome, text: str) -> None:
    WebDriverWait(driver, PATIENCE).until(expected_conditions.text_to_be_present_in_element((By.ID, "status"), text))


def fill(driver: webdriver.Chrome, **fields: str) -> None:
    for element_id, value in fields.items():
        box = driver.find_element(By.ID, element_id.replace("_", "-"))
        box.clear()
        box.send_keys(value)


def virtual_authenticator(driver: webdriver.Chrome) -> str:
    """A platform authenticator in DevTools that keeps discoverable credentials and verifies the
    user; its id."""
    driver.execute_cdp_cmd("WebAuthn.enable", {"enableUI": False})
    options = {
        "protocol": "ctap2",
        "transport": "internal",
        "hasResidentKey": True,
        "hasUserVerification": True,
        "isUserVerified": True,
        "automaticPresenceSimulation": True,
    }
    return str(driver.execute_cdp_cmd("WebAuthn.addVirtualAuthenticator", {"options": options})["authenticatorId"])


def touched_at_once(driver: webdriver.Chrome, authenticator: str, enabled: bool) -> None:
    """Whether the authenticator answers every request at once (`enabled`), or waits, as a person
    who does not pick a passkey from the autofill."""
    driver.execute_cdp_cmd(
        "WebAuthn.setAutomaticPresenceSimulation", {"authenticatorId": authenticator, "enabled": enabled}
    )


def remove_authenticator(driver: webdriver.Chrome, authenticator: str) -> None:
    """Take a virtual authenticator, and the passkeys it holds, out of the browser."""
    driver.execute_cdp_cmd("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": authenticator})
    driver.execute_cdp_cmd("WebAuthn.disable", {})
