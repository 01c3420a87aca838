"""What the service logs, and in which form."""

from __future__ import annotations

from typing import Literal

from authgate.settings.base import Section


class LogSettings(Section):
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    """`DEBUG`, `INFO`, `WARNING` or `ERROR`."""
    log_json: bool = False
    """One JSON object per log line (for log shippers)."""
