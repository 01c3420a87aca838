"""Writing the results into bench/RESULTS.md: the part between the markers is replaced, the
dated history below it is kept."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

BEGIN = "<!-- bench:begin -->"
END = "<!-- bench:end -->"


def table(head: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    def cell(value: object) -> str:
        if isinstance(value, float):
            return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}" if abs(value) < 1000 else f"{value:,.0f}"
        return str(value)

    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def replace_generated(path: Path, generated: str, intro: str) -> None:
    """Put `generated` between the markers (creating them after `intro` the first time)."""
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    block = f"{BEGIN}\n{generated.strip()}\n{END}"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        text = head + block + tail
    else:
        title, _, history = text.partition("\n")
        text = f"{title}\n\n{intro.strip()}\n\n{block}\n\n# History: changes and their before/after\n{history}"
    path.write_text(text)


def met(ok: bool) -> str:
    """A target's last column."""
    return "yes" if ok else "NO"
