"""The `accessToken` and `refreshToken` cookies (and social login's browser binding):
HttpOnly, SameSite=Lax, Path=/, Secure per setting, Max-Age equal to each one's lifetime.

With AUTHGATE_COOKIE_DOMAIN the two auth cookies carry `Domain=<it>`, so sibling subdomains
(`api.example.com` beside `auth.example.com`) receive them; without it they are host-only.
The social-login binding cookie is host-only always: it only ever comes back to us.

Reading them: `request.cookies` already merges every `Cookie` header (Starlette parses each
one), which curl scripts need: they send the two cookies as two separate headers.
`tests/http/test_cookies.py` and `tests/services/sessions` pin that behaviour in-process and against
a real server."""

from __future__ import annotations

import base64
import re
import secrets
from dataclasses import dataclass

from fastapi import Response

from authgate.settings import Settings

ACCESS_COOKIE = "accessToken"
REFRESH_COOKIE = "refreshToken"
AUTH_COOKIES = (ACCESS_COOKIE, REFRESH_COOKIE)


# What a cookie value may hold unquoted: ours are tokens (base64url, JWTs) and random ids.
COOKIE_VALUE = re.compile(r"[A-Za-z0-9._~-]*")
GONE = "Thu, 01 Jan 1970 00:00:00 GMT"


def set_cookie(
    response: Response,
    settings: Settings,
    name: str,
    value: str,
    max_age: int | None,
    *,
    domain: str | None = None,
    path: str = "/",
) -> None:
    """The one place the cookie attributes are written; host-only unless `domain` is given.
    Written straight as the header (the attributes in the order http.cookies writes them):
    two auth cookies ride on every sign-in and refresh answer, and http.cookies costs more
    than the rest of the answer's headers. `max_age=None`: a cookie for the browser's session."""
    if not COOKIE_VALUE.fullmatch(value):
        raise ValueError(f"the {name} cookie's value needs quoting")
    attributes = [f"{name}={value}"]
    if domain is not None:
        attributes.append(f"Domain={domain}")
    if max_age == 0:
        attributes.append(f"expires={GONE}")
    attributes.append("HttpOnly")
    if max_age is not None:
        attributes.append(f"Max-Age={max_age}")
    attributes += [f"Path={path}", "SameSite=lax"]
    if settings.cookie_secure:
        attributes.append("Secure")
    response.raw_headers.append((b"set-cookie", "; ".join(attributes).encode("latin-1")))


def set_auth_cookies(response: Response, settings: Settings, *, access_token: str, refresh_token: str | None) -> None:
    domain = settings.cookie_domain
    set_cookie(response, settings, ACCESS_COOKIE, access_token, settings.access_ttl_seconds, domain=domain)
    if refresh_token is not None:
        set_cookie(response, settings, REFRESH_COOKIE, refresh_token, settings.refresh_token_ttl_seconds, domain=domain)


def clear_auth_cookies(response: Response, settings: Settings) -> None:
    """Delete both cookies where they are set: for the cookie domain when one is configured, and
    host-only too, since a browser may still hold host-only ones from before the setting (a
    browser keeps a host-only and a domain cookie of one name side by side)."""
    domains = (settings.cookie_domain, None) if settings.cookie_domain else (None,)
    for domain in domains:
        for name in AUTH_COOKIES:
            set_cookie(response, settings, name, "", 0, domain=domain)


def oauth_browser_cookie(settings: Settings) -> str:
    """`__Host-oauthBrowser` when cookies are Secure: the prefix makes browsers refuse the
    cookie from a sibling subdomain or a plain-http page, so no one can plant a binding value
    they know in someone else's browser. Plain `oauthBrowser` for local http development.
    `__Host-` also demands a host-only cookie, which is why it is set without the domain."""
    return "__Host-oauthBrowser" if settings.cookie_secure else "oauthBrowser"


def csrf_cookie_name(settings: Settings) -> str:
    """The hosted pages' CSRF cookie (ui/csrf.py signs forms with its value)."""
    return "__Host-authgate-csrf" if settings.cookie_secure else "authgate-csrf"


def new_csrf_value() -> str:
    """32 random bytes: a new value at each sign-in and sign-out, so forms shown before stop working."""
    return secrets.token_urlsafe(32)


def set_csrf_cookie(response: Response, settings: Settings, value: str) -> None:
    """Host-only and for the browser's session. Here rather than in ui/ because the social
    callback (http/routes/oauth.py) signs a hosted flow in too."""
    set_cookie(response, settings, csrf_cookie_name(settings), value, None)


MFA_COOKIE = "authgate-mfa"
MFA_COOKIE_PATH = "/ui/"


@dataclass(frozen=True)
class PendingStep:
    """A hosted sign-in waiting for its second step (the `authgate-mfa` cookie): the mfaToken,
    where to go after, and which factors may answer (for the page's buttons only)."""

    mfa_token: str
    return_to: str | None
    methods: tuple[str, ...]


def _b64(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode("utf-8")).decode("ascii").rstrip("=")


def _unb64(value: str) -> str:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode("utf-8")


def set_mfa_cookie(response: Response, settings: Settings, step: PendingStep) -> None:
    value = ".".join((step.mfa_token, _b64(step.return_to or ""), _b64(",".join(step.methods))))
    set_cookie(response, settings, MFA_COOKIE, value, settings.mfa_token_ttl_seconds, path=MFA_COOKIE_PATH)


def clear_mfa_cookie(response: Response, settings: Settings) -> None:
    set_cookie(response, settings, MFA_COOKIE, "", 0, path=MFA_COOKIE_PATH)


def pending_step(value: str | None) -> PendingStep | None:
    if not value or value.count(".") != 2:
        return None
    token, back, methods = value.split(".")
    try:
        return PendingStep(token, _unb64(back) or None, tuple(m for m in _unb64(methods).split(",") if m))
    except (ValueError, UnicodeDecodeError):
        return None
