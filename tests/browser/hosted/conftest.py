"""The hosted pages' walks share one authgate server (SQLite, the SMTP sink, the admin console
on) and one Chromium per test process (each pytest-xdist worker starts its own the first time
one of its tests needs them, whichever modules its tests come from): each test signs up its own
fresh accounts and starts on a blank page with no cookies, and takes out what it adds to the
browser (a virtual authenticator). `chromium` here is that shared browser, so the `screenshot`
fixture of tests/browser/conftest.py takes its pages; `check` runs the page rules
(tests/support/pages.py) on the page a browser shows, with its screenshot."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from selenium import webdriver

from tests.support.browser import launch_chromium, need_chromium
from tests.support.pages import HostedStack, PageCheck, axe_source, drain_logs, hosted_stack

WINDOW = (1024, 768)  # a laptop's; screenshots take the whole page whatever its height


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostedStack]:
    with hosted_stack(tmp_path_factory.mktemp("authgate")) as running:
        yield running


@pytest.fixture(scope="session")
def axe() -> str:
    return axe_source()


@pytest.fixture(scope="session")
def shared_chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    need_chromium()
    driver = launch_chromium(tmp_path_factory.mktemp("chromium"), logs=True)
    driver.set_window_size(*WINDOW)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def chromium(shared_chromium: webdriver.Chrome) -> webdriver.Chrome:
    """The shared browser on a blank page, with no cookies, its logs emptied."""
    driver = shared_chromium
    driver.get("about:blank")
    driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
    drain_logs(driver)
    return driver


@pytest.fixture
def second_chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    """Another browser (its own profile and cookies), for a second person at once."""
    need_chromium()
    driver = launch_chromium(tmp_path_factory.mktemp("chromium"), logs=True)
    driver.set_window_size(*WINDOW)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def check(stack: HostedStack, axe: str, screenshot: Callable[..., None]) -> PageCheck:
    return PageCheck(csp=stack.csp, axe=axe, screenshot=screenshot)
