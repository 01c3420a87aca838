"""Driving the hosted pages over HTTP as a browser would: the client's cookie jar holds the
session and CSRF cookies, each POST sends the form's own `csrf_token` with `Origin` and
`Sec-Fetch-Site` of the page's origin, and answers are read as HTML."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import httpx

ORIGIN = "http://testserver"
BROWSER = {"Accept": "text/html", "Sec-Fetch-Site": "same-origin"}


class _Page(HTMLParser):
    """The parts of a page tests read: each form's fields, every element's attributes by id."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self.by_id: dict[str, dict[str, str | None]] = {}
        self.ids: list[str] = []
        self.h1: list[str] = []
        self._in_h1 = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        found["<tag>"] = tag
        if (element_id := found.get("id")) is not None:
            self.ids.append(element_id)
            self.by_id[element_id] = found
        if tag == "form":
            self.forms.append({"action": found.get("action"), "method": found.get("method"), "fields": {}})
        elif tag in ("input", "select", "textarea", "button") and self.forms and found.get("name"):
            self.forms[-1]["fields"].setdefault(found["name"], found.get("value") or "")
        if tag == "h1":
            self._in_h1 = True
            self.h1.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "h1":
            self._in_h1 = False

    def handle_data(self, data: str) -> None:
        if self._in_h1:
            self.h1[-1] += data


def parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def csrf_of(html: str, index: int = 0) -> str:
    tokens = re.findall(r'name="csrf_token" value="([^"]+)"', html)
    assert tokens, "the page has no form with a CSRF token"
    return tokens[index]


async def open_page(client: httpx.AsyncClient, path: str, **kwargs: Any) -> httpx.Response:
    return await client.get(path, headers=BROWSER, **kwargs)


async def submit(
    client: httpx.AsyncClient,
    path: str,
    fields: dict[str, str],
    *,
    page: str | None = None,
    form_index: int = 0,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """GET `page` (default: `path`), then POST its form `form_index` as the browser would: the
    form's own fields (its hidden ones included) with `fields` filled in."""
    shown = await open_page(client, page or path)
    assert shown.status_code == 200, shown.text
    own = parse(shown.text).forms[form_index]["fields"]
    data = {**own, "csrf_token": csrf_of(shown.text, form_index), **fields}
    sent = {"Origin": ORIGIN, **BROWSER, **(headers or {})}
    return await client.post(path, data=data, headers=sent)


async def sign_in(
    client: httpx.AsyncClient, email: str, password: str, *, page: str = "/ui/login", **fields: str
) -> httpx.Response:
    response = await submit(client, "/ui/login", {"email": email, "password": password, **fields}, page=page)
    assert response.status_code == 303, response.text
    return response


def field_error(html: str, name: str) -> str | None:
    """The message tied to the field `name`, if the page shows one (and checks the tie)."""
    page = parse(html)
    element = page.by_id.get(name)
    if element is None or element.get("aria-invalid") != "true":
        return None
    assert f"{name}-error" in (element.get("aria-describedby") or "").split()
    match = re.search(rf'<p class="field-error" id="{re.escape(name)}-error">([^<]*)</p>', html)
    assert match is not None
    return match.group(1)
