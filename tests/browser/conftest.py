"""The browser tests' fixture: headless Chromium driven by Selenium, both names of the test
origins (`*.example.test`) resolving to loopback."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

from tests.support.browser import CHROMEDRIVER, CHROMIUM
from tests.support.paths import ROOT
from tests.support.skip import skip_or_fail


@pytest.fixture
def chromium(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    for path in (CHROMIUM, CHROMEDRIVER):
        if shutil.which(path) is None:
            skip_or_fail(f"{path} is missing: apt-get install chromium chromium-driver")
    options = Options()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",  # runs as root in CI containers
        "--disable-dev-shm-usage",
        "--host-resolver-rules=MAP *.example.test 127.0.0.1",
        f"--user-data-dir={tmp_path / 'chromium'}",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_script_timeout(15)
    try:
        yield driver
    finally:
        driver.quit()


SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"


@pytest.fixture
def screenshot(chromium: webdriver.Chrome, request: pytest.FixtureRequest) -> Iterator[Callable[[str], None]]:
    """`screenshot("step")` saves the page as `test-artifacts/screenshots/<test>/NN-step.png`
    (kept after the run, for a person or CI to look at); the last one, `99-end.png`, is taken
    whatever happened."""
    folder = SCREENSHOTS / re.sub(r"[^\w.-]+", "-", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    print(f"screenshots: {folder}")
    taken = 0

    def take(step: str) -> None:
        nonlocal taken
        taken += 1
        chromium.save_screenshot(str(folder / f"{taken:02d}-{step}.png"))

    yield take
    chromium.save_screenshot(str(folder / "99-end.png"))
