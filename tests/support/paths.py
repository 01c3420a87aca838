"""Where the repository's own files are, for tests that read docs, examples, bench or clients."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the repository: tests/support/paths.py is two levels down
