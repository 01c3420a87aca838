"""The configuration reference table, written from the Settings class itself (each field's
type, default and docstring), so that the documented variables cannot drift from the ones the
code reads. `make docs` rewrites it in docs/configuration.md; a test fails when it is stale."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from authgate.settings import OAuthProviderSettings, Settings, env_name

BEGIN = "<!-- generated from the Settings class: `make docs` rewrites this table -->"
END = "<!-- end of the generated table -->"
DOC_LINK = re.compile(r"docs/([a-z0-9-]+\.md)(#[a-z0-9-]+)?")
UNITS = ((86_400, "day"), (3600, "hour"), (60, "minute"))


def _duration(seconds: float) -> str:
    for size, unit in UNITS:
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            return f" ({count} {unit}{'s' if count != 1 else ''})"
    return ""


def default_text(name: str, field: FieldInfo) -> str:
    value = field.default
    if value is PydanticUndefined:
        return "— (required)"
    if value is None or value == {}:
        return "unset"
    if value == []:
        return "empty"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, list):
        return f"`{','.join(value)}`"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = f"`{value}`"
    if name.endswith("_seconds") and isinstance(value, int):
        text += _duration(value)
    elif name.endswith("_ms") and isinstance(value, int) and value % 1000 == 0:
        text += _duration(value // 1000)
    return text


def _meaning(field: FieldInfo) -> str:
    text = " ".join((field.description or "").split())
    return DOC_LINK.sub(lambda m: f"[{m[1]}]({m[1]}{m[2] or ''})", text).replace("|", "\\|")


def rows() -> list[tuple[str, str, str]]:
    """(variable, default, meaning) for every setting, in the class's order."""
    table: list[tuple[str, str, str]] = []
    for name, field in Settings.model_fields.items():
        if name == "oauth_providers":  # one group of variables per provider
            for sub, sub_field in OAuthProviderSettings.model_fields.items():
                variable = f"AUTHGATE_OAUTH_<NAME>_{sub.upper()}"
                table.append((variable, "unset", _meaning(sub_field)))
            continue
        table.append((env_name(name), default_text(name, field), _meaning(field)))
    return table


def render() -> str:
    lines = [BEGIN, "", "| variable | default | meaning |", "|---|---|---|"]
    lines += [f"| `{variable}` | {default} | {meaning} |" for variable, default, meaning in rows()]
    return "\n".join([*lines, "", END])


def rewrite(document: str) -> str:
    """`document` with the text between the markers replaced by the current table."""
    head, found, rest = document.partition(BEGIN)
    _, found_end, tail = rest.partition(END)
    if not found or not found_end:
        raise ValueError("the document has no generated-table markers")
    return head + render() + tail


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("document", type=Path, help="the Markdown file holding the table (docs/configuration.md)")
    parser.add_argument("--check", action="store_true", help="exit 1 if the table is stale, changing nothing")
    args = parser.parse_args(argv)
    current = args.document.read_text(encoding="utf-8")
    fresh = rewrite(current)
    if args.check:
        return 0 if fresh == current else 1
    if fresh != current:
        args.document.write_text(fresh, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
