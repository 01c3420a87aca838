"""Driving the hosted pages over HTTP as a browser would: the client's cookie jar holds the
session and CSRF cookies, each POST sends the form's own `csrf_token` with `Origin` and
`Sec-Fetch-Site` of the page's origin, and answers are read as HTML.

`Page` reads an answer the way the account pages' tests check it (error summary, invalid
fields, notices, tables, lists); `post_form` posts a token the test chose (or none), with the
headers it chose, for the CSRF cases. Nothing follows redirects: tests look at each 303."""

from __future__ import annotations

import html as html_text
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import httpx

ORIGIN = "http://testserver"
BROWSER = {"Accept": "text/html", "Sec-Fetch-Site": "same-origin"}
SAME_ORIGIN = {"Origin": ORIGIN, "Sec-Fetch-Site": "same-origin"}  # what a browser sends with a form of ours


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
    sent = {"Origin": str(client.base_url).rstrip("/"), **BROWSER, **(headers or {})}
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


# --- reading a page, and posting a form with the token a test chose ------------------------------------


class _Elements(HTMLParser):
    """Every element's tag and attributes in document order, and the text of each element with an id."""

    VOID = frozenset({"input", "img", "br", "meta", "link", "hr", "source"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.texts: dict[str, str] = {}
        self._open: list[tuple[str, dict[str, str], list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value if value is not None else "" for name, value in attrs}
        self.elements.append((tag, attributes))
        if tag not in self.VOID:
            self._open.append((tag, attributes, []))

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            open_tag, attributes, chunks = self._open.pop()
            text = "".join(chunks)
            if "id" in attributes:
                self.texts[attributes["id"]] = text
            if self._open:
                self._open[-1][2].append(text)
            if open_tag == tag:
                break

    def handle_data(self, data: str) -> None:
        if self._open:
            self._open[-1][2].append(data)


@dataclass
class Page:
    """An answer of the pages, read as the tests read it."""

    response: httpx.Response
    parsed: _Elements = field(init=False)

    def __post_init__(self) -> None:
        self.parsed = _Elements()
        self.parsed.feed(self.response.text)

    @property
    def status(self) -> int:
        return self.response.status_code

    @property
    def text(self) -> str:
        return self.response.text

    def all(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        """Every `<tag>` whose attributes include `attrs`."""
        return [a for t, a in self.parsed.elements if t == tag and all(a.get(k) == v for k, v in attrs.items())]

    def one(self, tag: str, **attrs: str) -> dict[str, str]:
        found = self.all(tag, **attrs)
        assert len(found) == 1, (tag, attrs, found)
        return found[0]

    def input(self, name: str) -> dict[str, str]:
        return self.one("input", name=name)

    def text_of(self, element_id: str) -> str:
        """The text inside the element with this id, whitespace collapsed."""
        assert element_id in self.parsed.texts, f"no element with id {element_id!r}"
        return " ".join(self.parsed.texts[element_id].split())

    def csrf_token(self) -> str:
        tokens = {a["value"] for a in self.all("input", name="csrf_token")}
        assert len(tokens) == 1, f"expected one CSRF token on the page, found {tokens}"
        return tokens.pop()

    def invalid_fields(self) -> set[str]:
        """The names of the fields marked `aria-invalid="true"`."""
        return {a.get("name", a.get("id", "")) for _, a in self.parsed.elements if a.get("aria-invalid") == "true"}

    def has_error_summary(self) -> bool:
        return bool(self.all("div", id="error-summary", role="alert"))

    def error_summary(self) -> str:
        return self.text_of("error-summary")

    def summary_links(self) -> list[str]:
        """The fields the error summary links to (`#password` gives `password`)."""
        summary = re.search(r'<div id="error-summary".*?</div>', self.text, re.S)
        if summary is None:
            return []
        return [html_text.unescape(href)[1:] for href in re.findall(r'<a href="(#[^"]*)"', summary.group(0))]

    def notice(self) -> str | None:
        match = re.search(r'<p class="notice" role="status">(.*?)</p>', self.text, re.S)
        return html_text.unescape(match.group(1)) if match else None

    def list_items(self, element_id: str) -> list[str]:
        """The text of each `<li>` of the list with this id."""
        block = re.search(rf'<(ol|ul) id="{re.escape(element_id)}"[^>]*>(.*?)</\1>', self.text, re.S)
        assert block is not None, f"no list with id {element_id!r}"
        return [html_text.unescape(item).strip() for item in re.findall(r"<li>(.*?)</li>", block.group(2), re.S)]


async def post_form(
    client: httpx.AsyncClient,
    path: str,
    data: dict[str, str],
    *,
    token: str | None,
    headers: dict[str, str] | None = None,
) -> Page:
    """POST `data` to `path` with `token` as the CSRF token (None: without one) and the headers
    of a form of our own pages, or `headers` instead."""
    body = {**data, "csrf_token": token} if token is not None else dict(data)
    sent = {**BROWSER, **(SAME_ORIGIN if headers is None else headers)}
    return Page(await client.post(path, data=body, headers=sent))


def location(answer: Page | httpx.Response) -> str:
    """Where a 303 sends the browser (and that it is a 303)."""
    response = answer.response if isinstance(answer, Page) else answer
    assert response.status_code == 303, (response.status_code, response.text[:1000])
    return str(response.headers["location"])


def api_headers(client: httpx.AsyncClient) -> dict[str, str]:
    """The page session's access token as a bearer header, to see a page's effect through the API."""
    token = client.cookies.get("accessToken")
    assert token, "not signed in"
    return {"Authorization": f"Bearer {token}"}
