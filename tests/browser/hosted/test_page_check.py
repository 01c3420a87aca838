"""The page check itself (tests/support/pages.py) finds what it looks for: a page that breaks
every rule, served from loopback, is reported rule by rule; a page that keeps them passes. A check
that passed everything would make every walk's page checks worthless."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
from selenium import webdriver

from tests.support.pages import HEADERS, PRODUCT, PageCheck
from tests.support.server import free_port, serve_in_thread

pytestmark = pytest.mark.slow

CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'"

BROKEN = """<!doctype html>
<html><head><meta charset="utf-8"><title>Broken</title><script>document.title = "Broken";</script></head>
<body>
<h1>One</h1><h1>Two</h1>
<a href="javascript:void(0)" onclick="go()">go</a>
<div style="color: red" tabindex="3">styled</div>
<input id="email" name="mail">
<input id="twice" name="twice"><span id="twice"></span>
<form method="post"><button>Go</button></form>
<table><thead><tr><th>Head</th></tr></thead></table>
</body></html>
"""

KEPT = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in · {PRODUCT}</title>
<link rel="stylesheet" href="/kept.css"></head>
<body>
<a href="#main">Skip to content</a>
<header><a href="/">{PRODUCT}</a></header>
<main id="main" tabindex="-1">
<h1>Sign in</h1>
<form method="post" action="/">
<input type="hidden" name="csrf_token" value="x">
<label for="email">Email address</label>
<input id="email" name="email" type="email" autocomplete="email">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password">
<button type="submit">Sign in</button>
</form>
</main>
</body></html>
"""

KEPT_CSS = """:root { --authgate-primary: #1a56db; }
:focus-visible { outline: 3px solid var(--authgate-primary); }
"""

PAGES: dict[str, tuple[str, dict[str, str]]] = {
    "/broken": (BROKEN, {}),
    "/inline-script": (
        KEPT.replace("</main>", "</main><script>1;</script>"),
        {**HEADERS, "Content-Security-Policy": CSP},
    ),
    "/kept": (KEPT, {**HEADERS, "Content-Security-Policy": CSP}),
    "/unstyled": (
        KEPT.replace('<link rel="stylesheet" href="/kept.css">', ""),
        {**HEADERS, "Content-Security-Policy": CSP},
    ),
    "/grey-outline": (
        KEPT.replace("/kept.css", "/grey.css"),
        {**HEADERS, "Content-Security-Policy": CSP},
    ),
}
STYLES = {"/kept.css": KEPT_CSS, "/grey.css": KEPT_CSS.replace("var(--authgate-primary)", "#888")}


class Pages(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path in STYLES:
            self.send_response(200)
            self.send_header("Content-Type", "text/css")
            self.end_headers()
            self.wfile.write(STYLES[self.path].encode())
            return
        body, headers = PAGES.get(self.path, ("", {}))
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def origin() -> Iterator[str]:
    port = free_port()
    server = serve_in_thread(Pages, port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()


def problems(check: PageCheck, driver: webdriver.Chrome, step: str) -> str:
    with pytest.raises(AssertionError) as failed:
        check(driver, step)
    return str(failed.value)


def test_a_page_that_breaks_the_rules_is_reported_rule_by_rule(
    origin: str, chromium: webdriver.Chrome, axe: str, screenshot: Callable[..., None]
) -> None:
    check = PageCheck(csp=CSP, axe=axe, screenshot=screenshot)
    chromium.get(f"{origin}/broken")
    found = problems(check, chromium, "broken")
    for expected in (
        "content-security-policy: None",
        "x-frame-options: None, not 'DENY'",
        "cache-control: None, not 'no-store'",
        f"the title 'Broken' is not '<page> · {PRODUCT}'",
        "<html> has no lang",
        "2 <h1> elements, not one",
        "no <header>",
        'no <main id="main">',
        'id "twice" is used 2 times',
        '<input id="email" name="mail">: its id is not its name',
        '<input id="email" name="mail"> has 0 <label for> elements, not one',
        "an inline <script>",
        '<a href="javascript:void(0)"> has onclick=',
        '<a href="javascript:void(0)"> has a javascript: URL',
        "<div> has a style attribute",
        "<div> has a positive tabindex",
        'the first focusable element is <a href="javascript:void(0)">, not the "Skip to content" link',
        "<form> has no csrf_token",
        '<button> ("Go") is not a submit button inside a form',
        "a <table> without <caption>",
        '<th>Head</th> without scope="col"',
        "axe critical label: Form elements must have labels",
        "axe serious html-has-lang",
        'Tab #1 reached <input id="email" name="mail">, not control #1 in document order',  # the tabindex="3" div
    ):
        assert expected in found, f"{expected!r} not in:\n{found}"

    chromium.get(f"{origin}/inline-script")  # the policy refuses it: the console says so
    found = problems(check, chromium, "inline-script")
    assert "console SEVERE" in found and "Content Security Policy" in found, found

    chromium.get(f"{origin}/unstyled")  # the browser's own thin focus ring is not the theme's outline
    found = problems(check, chromium, "unstyled")
    assert '<input id="email" name="email">: no focus outline of 2 px or more' in found, found
    chromium.get(f"{origin}/grey-outline")
    found = problems(check, chromium, "grey-outline")
    assert (
        '<input id="email" name="email">: its focus outline is rgb(136, 136, 136), not the primary colour rgb(26, 86, 219)'
        in found
    ), found

    chromium.get(f"{origin}/kept")
    check(chromium, "kept")
