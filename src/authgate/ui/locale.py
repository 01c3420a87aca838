"""Which language a page speaks: `?lang=` (remembered in the `authgate-lang` cookie), else that
cookie, else the best match of `Accept-Language` among `AUTHGATE_UI_LOCALES`, else the first of
them. `de-CH` falls back to `de`."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlencode

LANG_COOKIE = "authgate-lang"
LANG_COOKIE_SECONDS = 365 * 24 * 3600
MAX_HEADER_ENTRIES = 20


def _tag(value: str) -> str:
    return value.strip().replace("-", "_")


def match(tag: str | None, available: tuple[str, ...]) -> str | None:
    """The available locale `tag` names, exactly or by its language (`de_CH` → `de`)."""
    if not tag:
        return None
    wanted = _tag(tag)
    by_lower = {locale.lower(): locale for locale in available}
    if wanted.lower() in by_lower:
        return by_lower[wanted.lower()]
    language = wanted.split("_", 1)[0].lower()
    return by_lower.get(language)


def preferred(header: str | None) -> list[str]:
    """The tags of an `Accept-Language` header, most wanted first (q-values; ties keep order)."""
    if not header:
        return []
    ranked: list[tuple[float, int, str]] = []
    for position, entry in enumerate(header.split(",")[:MAX_HEADER_ENTRIES]):
        tag, _, params = entry.partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag.strip() and tag.strip() != "*" and quality > 0:
            ranked.append((-quality, position, tag.strip()))
    return [tag for _, _, tag in sorted(ranked)]


def negotiate(*, query: str | None, cookie: str | None, header: str | None, available: tuple[str, ...]) -> str:
    for choice in (query, cookie):
        if (found := match(choice, available)) is not None:
            return found
    for tag in preferred(header):
        if (found := match(tag, available)) is not None:
            return found
    return available[0]


def language_links(query: Iterable[tuple[str, str]], available: tuple[str, ...]) -> dict[str, str]:
    """Each locale's link: this page's own query with `lang` replaced, so that choosing a
    language keeps what the page serves (`request`, `return_to`)."""
    kept = [(name, value) for name, value in query if name != "lang"]
    return {locale: "?" + urlencode([*kept, ("lang", locale)]) for locale in available}
