"""CORS with credentials for exactly the browser apps in AUTHGATE_CORS_ORIGINS.

Applied by the edge (http/middleware.py) before the path and body guards: a preflight is
answered before them, and every answer to a listed origin, problem documents included, carries the headers that let
the app read it. An origin not listed gets no CORS header at all and its preflight a 403
problem; Starlette's CORSMiddleware would send it Allow-Credentials and Allow-Methods anyway
and answer its preflight in plain text. Every answer says `Vary: Origin`, since it depends on it.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import Receive, Scope, Send

from authgate.errors import forbidden
from authgate.http.problems import from_auth_error
from authgate.security.origins import origin_of, origins_of

METHODS = ("GET", "POST", "PUT", "DELETE")  # every method a route answers
REQUEST_HEADERS = ("Authorization", "Content-Type", "X-Captcha-Token")  # the headers the API reads
SAFELISTED = frozenset({"accept", "accept-language", "content-language"})  # browsers may still ask for these
EXPOSED_HEADERS = ("Retry-After", "WWW-Authenticate")  # not readable by default, and the app needs them
MAX_AGE_SECONDS = 600  # how long a browser may reuse a preflight's answer
PREFLIGHT_VARY = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"


class CrossOrigin:
    """The policy the edge (http/middleware.py) applies: which origin a request comes from,
    whether it is listed, how its preflight is answered, and the headers of every answer."""

    def __init__(self, origins: Iterable[str]) -> None:
        self.origins = origins_of(origins)
        self.request_headers = frozenset(h.lower() for h in REQUEST_HEADERS) | SAFELISTED

    def listed_origin(self, scope: Scope) -> str | None:
        """The request's origin if it is one of the listed apps."""
        claimed = Headers(scope=scope).get("origin")
        origin = origin_of(claimed) if claimed is not None else None
        return origin if origin in self.origins else None

    def is_preflight(self, scope: Scope) -> bool:
        headers = Headers(scope=scope)
        return scope["method"] == "OPTIONS" and "origin" in headers and "access-control-request-method" in headers

    def decorate(self, headers: list[tuple[bytes, bytes]], listed: str | None) -> None:
        """An answer's headers, in place: `Vary: Origin` always, and for a listed origin the
        headers that let its app read the answer."""
        out = MutableHeaders(raw=headers)
        if listed is not None:
            out["Access-Control-Allow-Origin"] = listed
            out["Access-Control-Allow-Credentials"] = "true"
            out["Access-Control-Expose-Headers"] = ", ".join(EXPOSED_HEADERS)
        out.add_vary_header("Origin")

    def _allows(self, headers: Headers) -> bool:
        method = headers["access-control-request-method"].strip()
        asked = {h.strip().lower() for h in headers.get("access-control-request-headers", "").split(",") if h.strip()}
        return method in METHODS and asked <= self.request_headers

    async def answer_preflight(self, scope: Scope, receive: Receive, send: Send, listed: str | None) -> None:
        if listed is None or not self._allows(Headers(scope=scope)):
            refused = from_auth_error(forbidden("This origin, method or header may not call the API from a browser."))
            refused.headers["Vary"] = PREFLIGHT_VARY
            await refused(scope, receive, send)
            return
        await send(
            {
                "type": "http.response.start",
                "status": 204,
                "headers": [
                    (b"access-control-allow-origin", listed.encode()),
                    (b"access-control-allow-credentials", b"true"),
                    (b"access-control-allow-methods", ", ".join(METHODS).encode()),
                    (b"access-control-allow-headers", ", ".join(REQUEST_HEADERS).encode()),
                    (b"access-control-max-age", str(MAX_AGE_SECONDS).encode()),
                    (b"vary", PREFLIGHT_VARY.encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b""})
