"""Form bodies (`application/x-www-form-urlencoded`), read one way wherever they are taken: the
hosted pages, token introspection and the OpenID provider. A body that is not UTF-8, has too
many fields or names a field twice is refused (parsers disagree on which copy of a repeated
field wins, RFC 6749 §3.1); each caller answers that in its own words."""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import Request

FORM_TYPE = "application/x-www-form-urlencoded"


class UnreadableForm(ValueError):
    """Not UTF-8, or too many fields."""


class RepeatedField(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(f"{name} appears twice")
        self.name = name


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def is_form(request: Request) -> bool:
    return media_type(request) == FORM_TYPE


def form_pairs(body: bytes, *, max_fields: int) -> list[tuple[str, str]]:
    """Every (name, value) in order, repeats included (an authorization request's check
    reports a repeated parameter to the app itself)."""
    try:
        return parse_qsl(body.decode("utf-8"), keep_blank_values=True, errors="strict", max_num_fields=max_fields)
    except ValueError:  # not UTF-8 (UnicodeDecodeError is one), or too many fields
        raise UnreadableForm from None


def form_fields(body: bytes, *, max_fields: int) -> dict[str, str]:
    """The fields, each sent once."""
    fields: dict[str, str] = {}
    for name, value in form_pairs(body, max_fields=max_fields):
        if name in fields:
            raise RepeatedField(name)
        fields[name] = value
    return fields
