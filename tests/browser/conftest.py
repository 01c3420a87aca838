"""The browser tests' fixture: headless Chromium driven by Selenium, both names of the test
origins (`*.example.test`) resolving to loopback."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from selenium import webdriver

from tests.support.browser import launch_chromium, need_chromium
from tests.support.paths import ROOT


@pytest.fixture
def chromium(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    need_chromium()
    driver = launch_chromium(tmp_path / "chromium")
    try:
        yield driver
    finally:
        driver.quit()


SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"


@pytest.fixture
def screenshot(chromium: webdriver.Chrome, request: pytest.FixtureRequest) -> Iterator[Callable[..., None]]:
    """`screenshot("step")` saves the page as `test-artifacts/screenshots/<test>/NN-step.png`
    (kept after the run, for a person or CI to look at); the last one, `99-end.png`, is taken
    whatever happened. `screenshot("step", other_driver)` takes a second browser's page."""
    folder = SCREENSHOTS / re.sub(r"[^\w.-]+", "-", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    print(f"screenshots: {folder}")
    taken = 0

    def take(step: str, driver: webdriver.Chrome | None = None) -> None:
        nonlocal taken
        taken += 1
        (driver or chromium).save_screenshot(str(folder / f"{taken:02d}-{step}.png"))

    yield take
    chromium.save_screenshot(str(folder / "99-end.png"))
