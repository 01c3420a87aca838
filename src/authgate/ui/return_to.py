"""Where a page sends the browser next (`return_to`): a path on this server, or an absolute URL
whose origin is the public URL's or passes the `redirectTo` allow-list. Compared as parsed URLs
by the one redirect checker (security/redirects.py), never as string prefixes. Anything else is
dropped, with a warning that leaves out the value's query: a sign-in never stops on it."""

from __future__ import annotations

from urllib.parse import urlsplit

from authgate.observability.logging import get_logger
from authgate.security.redirects import UnsafeRedirect, check_redirect
from authgate.security.text import has_control_characters
from authgate.settings import Settings

log = get_logger("authgate.ui")
MAX_LENGTH = 2048


def allowed(settings: Settings, value: str | None) -> str | None:
    """`value` if it may be followed (a path stays a path), else None."""
    if not value:
        return None
    if len(value) > MAX_LENGTH or has_control_characters(value) or "\\" in value:
        _refused(value)
        return None
    try:
        target = check_redirect(
            value, allowed=[*settings.redirect_targets, settings.public_url], base_url=settings.public_url
        )
    except (UnsafeRedirect, ValueError):
        _refused(value)
        return None
    return value if value.startswith("/") else target


def _refused(value: str) -> None:
    parts = urlsplit(value) if len(value) <= MAX_LENGTH else None
    shown = f"{parts.scheme}://{parts.netloc}{parts.path}" if parts and parts.netloc else (parts.path if parts else "")
    log.warning("return_to_refused", value=shown[:200])
