"""Where headless Chromium and its driver are installed (apt-get install chromium chromium-driver);
the `chromium` fixture (browser/conftest.py) drives them. Also what the tests of the example app
(examples/spa) share: starting authgate and the app, each with its output in a log, filling the
page's boxes, and waiting for its status line."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from tests.support.paths import ROOT
from tests.support.server import PATIENCE, server_env, wait_healthy

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


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
