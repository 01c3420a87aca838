"""Check authgate's access tokens in your own Python services.

    verifier = TokenVerifier(secret=JWT_SECRET)  # or TokenVerifier(jwks_url=".../.well-known/jwks.json")

    @app.get("/api/profile")
    async def profile(claims=Depends(require_authenticated(verifier))): ...

`TokenVerifier(jwks_url=..., audience=..., accept_client_tokens=True)` also accepts the access
tokens authgate gave to apps; `require_scopes(verifier, "billing:read")` checks what they were granted.

Needs none of authgate's server settings; see docs/client.md.
"""

from authgate.client._claims import Claims
from authgate.client._dependencies import require_authenticated, require_caps, require_role, require_scopes
from authgate.client._errors import AuthgateError, problem_response
from authgate.client._middleware import AuthgateMiddleware
from authgate.client._verifier import TokenVerifier

__all__ = [
    "AuthgateError",
    "AuthgateMiddleware",
    "Claims",
    "TokenVerifier",
    "problem_response",
    "require_authenticated",
    "require_caps",
    "require_role",
    "require_scopes",
]
