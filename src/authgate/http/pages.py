"""Small HTML pages (the reset-password form and link results) for people who open a link in
a browser. Every value is escaped; the pages load nothing, frame nowhere, and send no
Referer, since their URL carries a token."""

from __future__ import annotations

import html

from fastapi import Request
from fastapi.responses import HTMLResponse

PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}

LAYOUT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{title}</title></head>
<body style="font-family: sans-serif; max-width: 28em; margin: 3em auto; line-height: 1.5;">
<h1 style="font-size: 1.3em;">{title}</h1>
{body}
</body></html>"""


def wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "").lower()


def page(title: str, body_html: str, status_code: int = 200) -> HTMLResponse:
    """`body_html` is trusted markup built here; put user values through `text()` first."""
    content = LAYOUT.format(title=html.escape(title), body=body_html)
    return HTMLResponse(content, status_code=status_code, headers=PAGE_HEADERS)


def text(value: str) -> str:
    return html.escape(value, quote=True)


def reset_form(*, min_length: int, errors: list[str] | None = None, status_code: int = 200) -> HTMLResponse:
    problems = "".join(f'<p style="color: #b00;">{text(message)}</p>' for message in errors or [])
    body = f"""{problems}
<form method="post" action="">
<p><label for="password">New password</label><br>
<input id="password" name="password" type="password" autocomplete="new-password" required
 minlength="{int(min_length)}" maxlength="1024" autofocus></p>
<p><button type="submit">Set new password</button></p>
</form>"""
    return page("Choose a new password", body, status_code)
