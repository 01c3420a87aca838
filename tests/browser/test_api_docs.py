"""The API docs page in a real browser: Swagger UI loads from authgate itself under the page's
Content-Security-Policy (`script-src 'self'`) and SRI digests, renders every operation of the
document, and fetches nothing from another host."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from selenium import webdriver

from tests.support.server import PATIENCE, Server

pytestmark = pytest.mark.slow


def test_the_docs_page_renders_every_operation_from_this_host_only(tmp_path: Path, chromium: webdriver.Chrome) -> None:
    server = Server(tmp_path, "docs")
    try:
        document = httpx.get(f"{server.base}/openapi.json").json()
        operations = sum(len(methods) for methods in document["paths"].values())
        chromium.get(f"{server.base}/docs")
        deadline = time.monotonic() + PATIENCE
        while len(chromium.find_elements("css selector", ".opblock")) < operations:
            assert time.monotonic() < deadline, "Swagger UI did not render the operations"
            time.sleep(0.2)
        fetched = chromium.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
        assert fetched and all(url.startswith(server.base + "/") for url in fetched), fetched
    finally:
        server.stop()
