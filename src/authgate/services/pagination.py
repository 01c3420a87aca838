"""Opaque cursors for keyset pagination: the sort key of the last item a page showed.

A page asks for the items after that key, so rows inserted meanwhile never shift the pages
(no item twice, none skipped). The cursor is base64url JSON: opaque to clients, but nothing
secret is in it, and anything that does not decode to the expected shape is a 400.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

import orjson

from authgate.errors import FieldError, validation_failed

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def encode_cursor(*key: str | int) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(list(key))).decode("ascii").rstrip("=")


def decode_cursor(cursor: str, *types: type) -> list[str | int]:
    """The key in `cursor`, each part of the given type; 400 on `cursor` otherwise."""
    try:
        raw = base64.urlsafe_b64decode(cursor.encode("ascii") + b"=" * (-len(cursor) % 4))
        key = orjson.loads(raw)
    except (ValueError, binascii.Error, UnicodeEncodeError, orjson.JSONDecodeError):
        key = None
    if (
        not isinstance(key, list)
        or len(key) != len(types)
        or not all(type(part) is kind for part, kind in zip(key, types, strict=True))
    ):
        raise validation_failed(FieldError("cursor", "This cursor is not one a previous page gave."))
    return key


def encode_time_cursor(at: datetime, row_id: str) -> str:
    """The cursor of a list ordered by (creation time, id)."""
    return encode_cursor(at.isoformat(), row_id)


def decode_time_cursor(cursor: str) -> tuple[datetime, str]:
    at, row_id = decode_cursor(cursor, str, str)
    try:
        return datetime.fromisoformat(str(at)), str(row_id)
    except ValueError:
        raise validation_failed(FieldError("cursor", "This cursor is not one a previous page gave.")) from None
