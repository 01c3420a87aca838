"""What free text may contain: no control or format characters (Unicode Cc and Cf).

No field authgate takes needs them, and they do harm: PostgreSQL refuses a NUL byte (a 500 if
unchecked), and invisible ones (U+202E reverses text) let a name pose as another in a UI or log.
"""

from __future__ import annotations

import unicodedata

from authgate.errors import FieldError, validation_failed

CONTROL_CATEGORIES = frozenset({"Cc", "Cf"})  # C0/C1 controls, and format characters such as U+202E


def has_control_characters(value: str) -> bool:
    # isprintable() is False for every Cc and Cf character: a fast path for ordinary text.
    return not value.isprintable() and any(unicodedata.category(ch) in CONTROL_CATEGORIES for ch in value)


def strip_control_characters(value: str) -> str:
    if not has_control_characters(value):
        return value
    return "".join(ch for ch in value if unicodedata.category(ch) not in CONTROL_CATEGORIES)


DESCRIPTION_MAX = 200


def checked_description(description: str | None) -> str | None:
    """A description (of a role, a webhook): trimmed, None when empty, at most 200 characters."""
    if description is None:
        return None
    description = description.strip()
    if len(description) > DESCRIPTION_MAX:
        raise validation_failed(FieldError("description", f"At most {DESCRIPTION_MAX} characters."))
    return description or None
