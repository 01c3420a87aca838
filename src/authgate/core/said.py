"""A message a service gives that a page may show: the English text (what the API sends) that
also keeps its gettext message and numbers apart, so that a page translates the message and
puts the numbers back (`Password must be at least %(minimum)s characters.`)."""

from __future__ import annotations

from typing import Any


class Said(str):
    """The English text, with the message it was made from and its values."""

    message: str
    values: dict[str, Any]


def said(message: str, **values: Any) -> Said:
    """`message` with `values` filled in (`%(name)s`); the catalogue extracts `said("…")`."""
    text = Said(message % values if values else message)
    text.message = message
    text.values = values
    return text
