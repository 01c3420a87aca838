"""What every section of Settings shares.

A section is a plain model holding its fields and, when some rule spans two of them, one
`model_validator(mode="after")`. Such a rule raises `field_error`, so that its error is located
at a field as a field validator's is: `load_settings` names the variable from that location."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, ValidationError


class Section(BaseModel):
    """A group of settings; `Settings` inherits them all and reads them from the environment."""

    # Each field's docstring is its line in docs/configuration.md.
    model_config = ConfigDict(frozen=True, use_attribute_docstrings=True)


def field_error(field: str, message: str, value: object) -> ValidationError:
    """The error a field validator raising ValueError(message) on `field` would have made."""
    return ValidationError.from_exception_data(
        "Settings",
        [{"type": "value_error", "loc": (field,), "input": value, "ctx": {"error": ValueError(message)}}],
    )
