"""Structured logs (structlog) that never carry a secret.

Every event passes through `redact`, which blanks any key that looks like a credential, so a
careless `log.info(..., password=...)` still writes nothing sensitive.
"""

from __future__ import annotations

import logging
import re
from collections.abc import MutableMapping
from typing import Any

import structlog

SECRET_KEYS = re.compile(r"pass|pin$|secret|token|code|authorization|cookie|otp|hash|key", re.IGNORECASE)


def redact(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event):
        if key != "event" and SECRET_KEYS.search(key):
            event[key] = "[redacted]"
    return event


def configure(level: str = "INFO", json: bool = False) -> None:
    renderer: Any = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redact,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        cache_logger_on_first_use=False,
    )


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
