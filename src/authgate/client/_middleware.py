"""`AuthgateMiddleware`: a pure ASGI middleware that lets through only requests with a valid
access token, for any ASGI app (Starlette, FastAPI, ...).

A refused HTTP request gets authgate's problem document (401 `invalid_token` /
`token_expired`, 503 `temporarily_unavailable`) without reaching the app; a refused WebSocket
is closed with 1008 (policy violation) before it is accepted. A passed request carries its
claims at `request.state.authgate_claims` (`scope["state"]["authgate_claims"]`), and the
FastAPI dependencies of the same verifier use them instead of verifying again.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from authgate.client._errors import AuthgateError
from authgate.client._verifier import TokenVerifier

POLICY_VIOLATION = 1008


class AuthgateMiddleware:
    """`public_paths` pass without a token when `scope["path"]` is exactly one of them;
    `public_prefixes` when it starts with one (end each with "/": "/public" would also let
    "/publicity" through). Lifespan and other scopes pass untouched."""

    def __init__(
        self,
        app: ASGIApp,
        verifier: TokenVerifier,
        *,
        public_paths: Iterable[str] = (),
        public_prefixes: Iterable[str] = (),
    ) -> None:
        self.app = app
        self.verifier = verifier
        self.public_paths = frozenset(public_paths)
        self.public_prefixes = tuple(public_prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self._is_public(scope["path"]):
            await self.app(scope, receive, send)
            return
        try:
            await self.verifier.authenticate(HTTPConnection(scope))
        except AuthgateError as exc:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": POLICY_VIOLATION, "reason": exc.code})
            else:
                await exc.response()(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _is_public(self, path: str) -> bool:
        return path in self.public_paths or (bool(self.public_prefixes) and path.startswith(self.public_prefixes))
