"""The provider's metadata (OpenID Connect Discovery 1.0, RFC 8414): one document at both
well-known paths, built once from the settings."""

from __future__ import annotations

from typing import Any

from authgate.security.oauth2 import STANDARD_SCOPES
from authgate.settings import Settings

CLAIMS = (
    "sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "azp", "at_hash", "sid",
    "name", "preferred_username", "updated_at", "email", "email_verified", "phone_number", "phone_number_verified",
)  # fmt: skip
CLIENT_AUTH = ["client_secret_basic", "client_secret_post"]


def metadata(settings: Settings) -> dict[str, Any]:
    issuer = settings.issuer
    document: dict[str, Any] = {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/oauth2/authorize",
        "token_endpoint": f"{issuer}/oauth2/token",
        "userinfo_endpoint": f"{issuer}/oauth2/userinfo",
        "jwks_uri": f"{issuer}/.well-known/jwks.json",
        "revocation_endpoint": f"{issuer}/oauth2/revoke",
        "introspection_endpoint": f"{issuer}/oauth2/introspect",
        "end_session_endpoint": f"{issuer}/oauth2/logout",
        "scopes_supported": list(STANDARD_SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": [*CLIENT_AUTH, "none"],
        "revocation_endpoint_auth_methods_supported": [*CLIENT_AUTH, "none"],
        "introspection_endpoint_auth_methods_supported": CLIENT_AUTH,
        "code_challenge_methods_supported": ["S256"],
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "claims_supported": list(CLAIMS),
        "acr_values_supported": ["1", "2"],
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "authorization_response_iss_parameter_supported": True,
    }
    if settings.api_docs:
        document["service_documentation"] = f"{issuer}/docs"
    return document
