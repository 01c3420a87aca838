"""Rate limits (and CAPTCHA) in front of the routes that can be abused, as one dependency.

`guarded("login", identifier=login_identifier, captcha=True)` counts the request under the
rule `login.ip` for the client address (`X-Forwarded-For` only from a trusted proxy, see
`request_scope.client_ip`) and under `login.identifier` for the account the body names, normalised
as sign-in normalises it, so that rotating addresses or spelling an address differently does
not escape the limit. A body that cannot be read names no identifier: the route refuses it.

With `captcha=True`, a request that passed the limits must then bring a CAPTCHA token when a
provider is configured (captcha/suspicion.py): `captchaToken` in the JSON body, or the
`X-Captcha-Token` header."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from fastapi import Depends, Request

from authgate.abuse.lockout import identifier
from authgate.captcha import require as require_captcha
from authgate.http.deps import Context, RuntimeDep
from authgate.http.openapi import problem_statuses
from authgate.runtime.root import Runtime
from authgate.scope import RequestContext
from authgate.security.identifiers import email_key, normalize_email, normalize_phone, username_key

Body = dict[str, Any]


async def json_body(request: Request) -> Body:
    try:
        body = orjson.loads(await request.body() or b"{}")
    except orjson.JSONDecodeError:
        return {}
    return body if isinstance(body, dict) else {}


def _text(body: Body, name: str) -> str | None:
    value = body.get(name)
    return value if isinstance(value, str) and value else None


def email_identifier(body: Body) -> str | None:
    raw = _text(body, "email")
    try:
        return identifier("email", email_key(normalize_email(raw))) if raw else None
    except ValueError:
        return None


def login_identifier(body: Body) -> str | None:
    """`email`, else `username` or `name` (the name-and-PIN login), as /login reads them: an
    `"email": null` is no email (/login then signs in by `username`, so it must be counted)."""
    if body.get("email") is not None:
        return email_identifier(body)
    raw = _text(body, "username") or _text(body, "name")
    return identifier("username", username_key(raw)) if raw else None


def code_identifier(body: Body) -> str | None:
    """The phone or address a one-time code was sent to."""
    if body.get("channel") == "email":
        return email_identifier(body)
    raw = _text(body, "phone")
    try:
        return identifier("phone", normalize_phone(raw)) if raw else None
    except ValueError:
        return None


async def limit(
    rt: Runtime,
    ctx: RequestContext,
    area: str,
    body: Body,
    *,
    identifier: Callable[[Body], str | None] | None = None,
    captcha_token: str | None = None,
    captcha: bool = False,
) -> None:
    """Count a request of `area` (and the account `body` names), then ask for its CAPTCHA:
    the API's dependency below and the hosted pages' forms alike."""
    await rt.limiter.hit(f"{area}.ip", ctx.ip_address)
    identifier_rule = f"{area}.identifier"
    if identifier is not None and rt.limiter.limits(identifier_rule):
        await rt.limiter.hit(identifier_rule, identifier(body))
    if captcha and rt.captcha is not None:
        await require_captcha(rt, _text(body, "captchaToken") or captcha_token, ctx.ip_address)


def guarded(area: str, *, identifier: Callable[[Body], str | None] | None = None, captcha: bool = False) -> Any:
    """The dependency that limits `area` (see the module docstring)."""
    identifier_rule = f"{area}.identifier"

    @problem_statuses(429)
    async def guard(request: Request, rt: RuntimeDep, ctx: Context) -> None:
        counts_identifier = identifier is not None and rt.limiter.limits(identifier_rule)
        asks_captcha = captcha and rt.captcha is not None
        body = await json_body(request) if counts_identifier or asks_captcha else {}
        header = request.headers.get("x-captcha-token") or None
        await limit(rt, ctx, area, body, identifier=identifier, captcha_token=header, captcha=captcha)

    return Depends(guard)
