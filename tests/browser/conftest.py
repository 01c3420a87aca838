"""The browser tests' fixture: headless Chromium driven by Selenium, both names of the test
origins (`*.example.test`) resolving to loopback."""

from __future__ import annotations

import base64
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
    """`screenshot("step")` saves the whole page (not only the window) as
    `test-artifacts/screenshots/<test>/NN-step.png` (kept after the run, for a person or CI to
    look at); the last one, `99-end.png`, is taken whatever happened. `screenshot("step",
    other_driver)` takes a second browser's page."""
    folder = SCREENSHOTS / re.sub(r"[^\w.-]+", "-", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    print(f"screenshots: {folder}")
    taken = 0

    def take(step: str, driver: webdriver.Chrome | None = None) -> None:
        nonlocal taken
        taken += 1
        (folder / f"{taken:02d}-{step}.png").write_bytes(whole_page(driver or chromium))

    yield take
    (folder / "99-end.png").write_bytes(whole_page(chromium))


def whole_page(driver: webdriver.Chrome) -> bytes:
    """A PNG of the whole page, beyond the window's height (DevTools' capture)."""
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip}
    )
    return base64.b64decode(shot["data"])
