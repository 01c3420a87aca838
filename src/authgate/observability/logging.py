"""Structured logs (structlog) that never carry a secret.

Every event passes through `redact`, which blanks any key that looks like a credential, so a
careless `log.info(..., password=...)` still writes nothing sensitive, and takes the token out
of any `path`. Link tokens travel in URL paths and OAuth codes in queries, so uvicorn's access
log (`authgate serve --access-log`) is redacted the same way (`RedactAccessLog`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import MutableMapping
from typing import Any

import structlog

SECRET_KEYS = re.compile(r"pass|pin$|secret|token|code|authorization|cookie|otp|hash|key", re.IGNORECASE)
LINK_TOKEN = re.compile(r"(/(?:login/magic|email/verify|password/reset)/)[^/?#\s\"]+")
SECRET_QUERY = re.compile(r"([?&][^=&\s\"]*(?:code|state|token|secret)[^=&\s\"]*=)[^&#\s\"]*", re.IGNORECASE)


def redact_url(url: str) -> str:
    """`/login/magic/[redacted]`, `?code=[redacted]&state=[redacted]`."""
    return SECRET_QUERY.sub(r"\1[redacted]", LINK_TOKEN.sub(r"\1[redacted]", url))


def redact(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event):
        if key != "event" and SECRET_KEYS.search(key):
            event[key] = "[redacted]"
        elif key == "path" and isinstance(event[key], str):
            event[key] = redact_url(event[key])
    return event


class RedactAccessLog(logging.Filter):
    """uvicorn writes each request as `(client, method, path with query, version, status)`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) >= 3 and isinstance(record.args[2], str):
            record.args = (*record.args[:2], redact_url(record.args[2]), *record.args[3:])
        return True


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
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactAccessLog) for f in access.filters):
        access.addFilter(RedactAccessLog())


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
