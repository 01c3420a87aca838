"""Driving the hosted pages (`/ui/…`) over HTTP as a browser would: load a page, take the CSRF
token out of its form, post the form back with the same cookies and the fetch metadata a
browser sends, and read what a page shows (error summary, invalid fields, notices, tables).

The client's cookie jar carries the page cookies (`accessToken`, `refreshToken`, the CSRF
cookie) from one request to the next, as a browser's does. Nothing follows redirects: tests
look at each 303."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import httpx

from tests.support.http import STRONG_PASSWORD

ORIGIN = "http://testserver"  # the `make_client` apps' public URL
SAME_ORIGIN = {"Origin": ORIGIN, "Sec-Fetch-Site": "same-origin"}  # what a browser sends with a form of ours
NAVIGATION = {"Sec-Fetch-Site": "same-origin", "Accept": "text/html"}
FORM_TYPE = {"Content-Type": "application/x-www-form-urlencoded"}


class PageParser(HTMLParser):
    """The parts of a page tests read: every element's attributes by tag, and the text of some."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self._stack: list[tuple[str, dict[str, str], list[str]]] = []
        self.texts: dict[str, list[str]] = {}  # id -> text of the element with that id

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value if value is not None else "" for name, value in attrs}
        self.elements.append((tag, attributes))
        if tag not in {"input", "img", "br", "meta", "link"}:
            self._stack.append((tag, attributes, []))

    def handle_endtag(self, tag: str) -> None:
        while self._stack:
            open_tag, attributes, chunks = self._stack.pop()
            text = "".join(chunks)
            if "id" in attributes:
                self.texts.setdefault(attributes["id"], []).append(text)
            if self._stack:
                self._stack[-1][2].append(text)
            if open_tag == tag:
                break

    def handle_data(self, data: str) -> None:
        if self._stack:
            self._stack[-1][2].append(data)


@dataclass
class Page:
    """A page as the tests read it."""

    response: httpx.Response
    parsed: PageParser = field(init=False)

    def __post_init__(self) -> None:
        self.parsed = PageParser()
        self.parsed.feed(self.response.text)

    @property
    def status(self) -> int:
        return self.response.status_code

    @property
    def text(self) -> str:
        return self.response.text

    def all(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        """Every `<tag>` whose attributes include `attrs` (`class_` for `class`)."""
        wanted = {name.rstrip("_").replace("_", "-"): value for name, value in attrs.items()}
        return [a for t, a in self.parsed.elements if t == tag and all(a.get(k) == v for k, v in wanted.items())]

    def one(self, tag: str, **attrs: str) -> dict[str, str]:
        found = self.all(tag, **attrs)
        assert len(found) == 1, (tag, attrs, found)
        return found[0]

    def input(self, name: str) -> dict[str, str]:
        return self.one("input", name=name)

    def text_of(self, element_id: str) -> str:
        """The text inside the element with this id (whitespace collapsed)."""
        texts = self.parsed.texts.get(element_id)
        assert texts, f"no element with id {element_id!r}"
        return " ".join(" ".join(texts).split())

    def csrf_token(self) -> str:
        tokens = {a["value"] for a in self.all("input", name="csrf_token")}
        assert len(tokens) == 1, f"expected one CSRF token on the page, found {tokens}"
        return tokens.pop()

    def invalid_fields(self) -> set[str]:
        """The names of the fields marked `aria-invalid="true"`."""
        return {a.get("name", a.get("id", "")) for t, a in self.parsed.elements if a.get("aria-invalid") == "true"}

    def summary_links(self) -> list[str]:
        """The fields the error summary links to (`#password` → `password`)."""
        if "error-summary" not in self.parsed.texts:
            return []
        summary = re.search(r'<div id="error-summary".*?</div>', self.text, re.S)
        assert summary is not None
        return [html.unescape(href)[1:] for href in re.findall(r'<a href="(#[^"]*)"', summary.group(0))]

    def has_error_summary(self) -> bool:
        return bool(self.all("div", id="error-summary", role="alert"))

    def error_summary(self) -> str:
        return self.text_of("error-summary")

    def notice(self) -> str | None:
        match = re.search(r'<p class="notice" role="status">(.*?)</p>', self.text, re.S)
        return html.unescape(match.group(1)) if match else None

    def list_items(self, element_id: str) -> list[str]:
        """The text of each `<li>` of the list with this id."""
        block = re.search(rf'<(ol|ul) id="{re.escape(element_id)}"[^>]*>(.*?)</\1>', self.text, re.S)
        assert block is not None, f"no list with id {element_id!r}"
        return [html.unescape(item).strip() for item in re.findall(r"<li>(.*?)</li>", block.group(2), re.S)]


async def open_page(client: httpx.AsyncClient, path: str, **headers: str) -> Page:
    """GET a page as a browser navigating on our own site would."""
    response = await client.get(path, headers={**NAVIGATION, **headers})
    return Page(response)


async def post_form(
    client: httpx.AsyncClient,
    path: str,
    data: dict[str, str],
    *,
    token: str | None,
    headers: dict[str, str] | None = None,
) -> Page:
    """POST a form to `path` with `token` as its CSRF token (None: without one)."""
    body = dict(data)
    if token is not None:
        body["csrf_token"] = token
    sent = {**SAME_ORIGIN, **FORM_TYPE, **(headers if headers is not None else {})}
    response = await client.post(path, data=body, headers=sent)
    return Page(response)


async def submit(
    client: httpx.AsyncClient,
    path: str,
    data: dict[str, str] | None = None,
    *,
    on: str | None = None,
    headers: dict[str, str] | None = None,
) -> Page:
    """Load the page that shows the form (`on`, by default `path`), then post the form to
    `path` with that page's CSRF token and cookies, as a browser submitting it would."""
    shown = await open_page(client, on or path)
    assert shown.status == 200, (on or path, shown.status, shown.text[:500])
    return await post_form(client, path, data or {}, token=shown.csrf_token(), headers=headers)


def location(page: Page | httpx.Response) -> str:
    response = page.response if isinstance(page, Page) else page
    assert response.status_code == 303, (response.status_code, response.text[:500])
    return response.headers["location"]


async def sign_in(
    client: httpx.AsyncClient, email: str = "ada@example.com", password: str = STRONG_PASSWORD, **extra: str
) -> Page:
    """Sign in through `/ui/login`; the client then holds the page session's cookies."""
    done = await submit(client, "/ui/login", {"email": email, "password": password, **extra})
    assert done.status == 303, (done.status, done.text[:1000])
    return done


def access_token(client: httpx.AsyncClient) -> str:
    """The page session's access token, for checking effects through the API."""
    token = client.cookies.get("accessToken")
    assert token, "not signed in"
    return token


def api_headers(client: httpx.AsyncClient) -> dict[str, Any]:
    return {"Authorization": f"Bearer {access_token(client)}"}
