"""Why a request was refused: one exception that knows its RFC 9457 problem document.

`AuthgateError` subclasses Starlette's `HTTPException`, so any Starlette or FastAPI app
answers it with the right status and `WWW-Authenticate` even with no setup (FastAPI's default
handler then writes `{"detail": ...}`). Installing `problem_response` as the handler for
`AuthgateError` turns the body into the problem document authgate itself answers with.
"""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE = "https://authgate.dev/problems/"


class AuthgateError(HTTPException):
    """A refused request: `status`, `code` (authgate's stable error code), `title`, `detail`
    and the response `headers` (`WWW-Authenticate`, `Retry-After`)."""

    def __init__(self, status: int, code: str, title: str, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(status_code=status, detail=detail, headers=headers or {})
        self.status = status
        self.code = code
        self.title = title
        self.detail: str = detail
        self.headers: dict[str, str] = headers or {}

    def problem(self) -> dict[str, Any]:
        """The RFC 9457 body, shaped as authgate's own error bodies."""
        return {
            "type": PROBLEM_TYPE + self.code.replace("_", "-"),
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
        }

    def response(self) -> Response:
        """The problem document as an `application/problem+json` response (an ASGI app)."""
        return JSONResponse(self.problem(), status_code=self.status, headers=self.headers, media_type=PROBLEM_JSON)


async def problem_response(_request: Request, exc: Exception) -> Response:
    """Exception handler: `app.add_exception_handler(AuthgateError, problem_response)`."""
    if not isinstance(exc, AuthgateError):
        raise exc
    return exc.response()


def _challenge(realm: str, error: str | None = None, scope: str | None = None) -> dict[str, str]:
    """RFC 6750 §3: a request with no token gets the bare challenge, without an error code."""
    value = f'Bearer realm="{realm}"'
    if error is not None:
        value += f', error="{error}"'
    if scope is not None:
        value += f', scope="{scope}"'
    return {"WWW-Authenticate": value}


def missing_token(realm: str) -> AuthgateError:
    return AuthgateError(401, "invalid_token", "Invalid token", "Authentication is required.", _challenge(realm))


def invalid_token(realm: str, detail: str = "The token is missing, malformed or not valid.") -> AuthgateError:
    return AuthgateError(401, "invalid_token", "Invalid token", detail, _challenge(realm, "invalid_token"))


def token_expired(realm: str) -> AuthgateError:
    return AuthgateError(
        401, "token_expired", "Token expired", "The token has expired.", _challenge(realm, "invalid_token")
    )


def forbidden(realm: str, detail: str, scope: str | None = None) -> AuthgateError:
    return AuthgateError(403, "forbidden", "Forbidden", detail, _challenge(realm, "insufficient_scope", scope))


def unavailable(detail: str) -> AuthgateError:
    """Fail closed: the keys or the introspection answer could not be had."""
    return AuthgateError(503, "temporarily_unavailable", "Temporarily unavailable", detail, {"Retry-After": "5"})
