"""Where headless Chromium and its driver are installed (apt-get install chromium chromium-driver);
the `chromium` fixture (browser/conftest.py) drives them. Also what the tests of the example app
(examples/spa) share: starting a process with its output in a log, filling the page's boxes, and
waiting for its status line."""

from __future__ import annotations

import subprocess
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from tests.support.server import PATIENCE

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def started(args: list[str], cwd: Path, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(args, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)


def status_says(driver: webdriver.Chrome, text: str) -> None:
    WebDriverWait(driver, PATIENCE).until(expected_conditions.text_to_be_present_in_element((By.ID, "status"), text))


def fill(driver: webdriver.Chrome, **fields: str) -> None:
    for element_id, value in fields.items():
        box = driver.find_element(By.ID, element_id.replace("_", "-"))
        box.clear()
        box.send_keys(value)
