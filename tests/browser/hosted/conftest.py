"""The hosted pages' walks share, per module, one authgate server (SQLite, the SMTP sink, the
admin console on) and one Chromium: each test signs up its own fresh accounts and starts with
no cookies. `chromium` here is that module's browser, so the `screenshot` fixture of
tests/browser/conftest.py takes its pages; `check` runs the page rules (tests/support/pages.py)
on the page a browser shows, with its screenshot."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from selenium import webdriver

from tests.support.browser import launch_chromium, need_chromium
from tests.support.pages import HostedStack, PageCheck, axe_source, drain_logs, hosted_stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostedStack]:
    with hosted_stack(tmp_path_factory.mktemp("authgate")) as running:
        yield running


@pytest.fixture(scope="module")
def axe() -> str:
    return axe_source()


@pytest.fixture(scope="module")
def module_chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    need_chromium()
    driver = launch_chromium(tmp_path_factory.mktemp("chromium"), logs=True)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def chromium(module_chromium: webdriver.Chrome) -> webdriver.Chrome:
    """The module's browser with no cookies, on a blank page, its logs emptied."""
    driver = module_chromium
    driver.get("about:blank")
    driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
    drain_logs(driver)
    return driver


@pytest.fixture
def second_chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    """Another browser (its own profile and cookies), for a second person at once."""
    need_chromium()
    driver = launch_chromium(tmp_path_factory.mktemp("chromium"), logs=True)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def check(stack: HostedStack, axe: str, screenshot: Callable[..., None]) -> PageCheck:
    return PageCheck(csp=stack.csp, axe=axe, screenshot=screenshot)
