"""Plain-text and HTML bodies from small `string.Template` files in `templates/`.

Every value put into HTML is escaped (attribute-safe); text bodies take values as they are.
A missing template or variable raises at render time, which the tests exercise for each kind.
"""

from __future__ import annotations

import html
from functools import cache
from importlib import resources
from string import Template

from authgate.delivery.base import EMAIL, SMS, Message

SUBJECTS = {
    "verify_email": "Confirm your email address",
    "reset_password": "Reset your password",
    "magic_link": "Your sign-in link",
    "otp_code": "Your one-time code",
    "welcome": "Welcome",
}


@cache
def _template(name: str) -> Template:
    return Template(resources.files("authgate.delivery").joinpath("templates", name).read_text("utf-8"))


def lifetime_words(seconds: int) -> str:
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return "1 hour" if hours == 1 else f"{hours} hours"
    minutes = max(1, seconds // 60)
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


def render(kind: str, *, channel: str, to: str, app: str, **values: str) -> Message:
    """The message of `kind` for `to`; `values` fill the template (`link`, `code`, ...)."""
    action = values.get("link") or values.get("code")
    values = {"app": app, **values}
    if channel == SMS:
        text = _template(f"{kind}.sms.txt").substitute(values).strip()
        return Message(channel=SMS, to=to, text=text, action=action)
    if channel != EMAIL:
        raise ValueError(f"unknown channel {channel!r}")
    subject = SUBJECTS[kind]
    escaped = {key: html.escape(value, quote=True) for key, value in values.items()}
    body = _template(f"{kind}.html").substitute(escaped)
    page = _template("layout.html").substitute(title=html.escape(subject), body=body, app=escaped["app"])
    return Message(
        channel=EMAIL,
        to=to,
        subject=subject,
        text=_template(f"{kind}.txt").substitute(values),
        html=page,
        action=action,
    )
